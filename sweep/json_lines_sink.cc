#include "sweep/json_lines_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace ers {

absl::Status JsonLinesSink::Record(const ScanRecord& record) {
  line_.clear();
  writer_.Append(record, &line_);
  line_.push_back('\n');
  if (fwrite(line_.data(), 1, line_.size(), out_) != line_.size()) {
    return absl::DataLossError(
        absl::StrCat("cannot write ", name_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status JsonLinesSink::Checkpoint(const std::string&) {
  if (fflush(out_) != 0 || (sync_ && fsync(fileno(out_)) != 0)) {
    return absl::DataLossError(
        absl::StrCat("cannot write ", name_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status TruncatePartialLine(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(path.c_str(), "r+"), &fclose);
  if (!f) return absl::OkStatus();
  if (fseeko(f.get(), 0, SEEK_END) != 0) return absl::OkStatus();
  const off_t end = ftello(f.get());
  off_t pos = end;
  char buf[4096];
  while (pos > 0) {
    const off_t chunk = std::min<off_t>(pos, sizeof(buf));
    // A file that cannot be read back is left alone: never cut what was
    // not seen.
    if (fseeko(f.get(), pos - chunk, SEEK_SET) != 0 ||
        fread(buf, 1, static_cast<size_t>(chunk), f.get()) != static_cast<size_t>(chunk)) {
      return absl::DataLossError(absl::StrCat("cannot read ", path, " back to repair it"));
    }
    for (off_t i = chunk - 1; i >= 0; --i) {
      if (buf[i] != '\n') continue;
      const off_t keep = pos - chunk + i + 1;
      if (keep != end && ftruncate(fileno(f.get()), keep) != 0) {
        return absl::DataLossError(absl::StrCat("cannot repair ", path, ": ", strerror(errno)));
      }
      return absl::OkStatus();
    }
    pos -= chunk;
  }
  if (end > 0 && ftruncate(fileno(f.get()), 0) != 0) {
    return absl::DataLossError(absl::StrCat("cannot repair ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace ers

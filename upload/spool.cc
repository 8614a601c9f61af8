#include "upload/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/private_files.h"

namespace ers {

absl::Status Spool::Add(const std::string& batch_id, const std::string& body) {
  if (absl::Status dir = EnsurePrivateDirectory(dir_); !dir.ok()) return dir;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  // Name: time and a per-process sequence, so files sort in the order added.
  const std::string name = absl::StrFormat(
      "%020d-%06d-%s.json",
      static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec, sequence_++, batch_id);
  if (!Fits(body.size())) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the spool ", dir_, " is full (", Bytes(), " bytes waiting, bound ", max_bytes_,
        ")"));
  }
  absl::Status written = WritePrivateFileAtomically(absl::StrCat(dir_, "/", name), body);
  if (written.ok() && counted_.has_value()) *counted_ += body.size();
  return written;
}

bool Spool::Fits(uint64_t bytes) const {
  if (!counted_.has_value()) counted_ = Bytes();
  return *counted_ + bytes <= max_bytes_;
}

absl::Status Spool::Reject(const std::string& file, const std::string& reason) {
  counted_.reset();
  if (absl::Status dir = EnsurePrivateDirectory(RejectedDir()); !dir.ok()) return dir;
  const size_t slash = file.rfind('/');
  const std::string name = slash == std::string::npos ? file : file.substr(slash + 1);
  const std::string target = absl::StrCat(RejectedDir(), "/", name);
  // The reason first: a crash in between leaves a reason without a batch
  // (ignored), never a rejected batch without its reason.
  if (absl::Status s = WritePrivateFileAtomically(target + ".reason", reason + "\n"); !s.ok()) {
    return s;
  }
  if (rename(file.c_str(), target.c_str()) != 0) {
    return absl::DataLossError(absl::StrCat("cannot move ", file, " aside: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Spool::RejectedBatch>> Spool::Rejected() const {
  std::vector<RejectedBatch> out;
  struct stat st;
  if (lstat(RejectedDir().c_str(), &st) != 0 && errno == ENOENT) return out;
  if (absl::Status dir = EnsurePrivateDirectory(RejectedDir()); !dir.ok()) return dir;
  DIR* d = opendir(RejectedDir().c_str());
  if (d == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", RejectedDir(), ": ", strerror(errno)));
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name[0] == '.' || !absl::EndsWith(name, ".json")) continue;
    out.push_back({absl::StrCat(RejectedDir(), "/", name), ""});
  }
  closedir(d);
  std::sort(out.begin(), out.end(),
            [](const RejectedBatch& a, const RejectedBatch& b) { return a.file < b.file; });
  for (RejectedBatch& r : out) {
    absl::StatusOr<std::string> reason = Read(r.file + ".reason");
    r.reason = reason.ok() ? std::string(absl::StripTrailingAsciiWhitespace(*reason))
                           : "(no reason recorded)";
  }
  return out;
}

absl::StatusOr<int> Spool::RetryRejected() {
  counted_.reset();
  absl::StatusOr<std::vector<RejectedBatch>> rejected = Rejected();
  if (!rejected.ok()) return rejected.status();
  int moved = 0;
  for (const RejectedBatch& r : *rejected) {
    const std::string name = r.file.substr(r.file.rfind('/') + 1);
    if (rename(r.file.c_str(), absl::StrCat(dir_, "/", name).c_str()) != 0) {
      return absl::DataLossError(
          absl::StrCat("cannot put ", r.file, " back in the queue: ", strerror(errno)));
    }
    unlink((r.file + ".reason").c_str());
    ++moved;
  }
  return moved;
}

absl::StatusOr<std::vector<std::string>> Spool::Pending() const {
  std::vector<std::string> files;
  struct stat st;
  if (lstat(dir_.c_str(), &st) != 0 && errno == ENOENT) return files;
  // Batches are only read from a directory that is ours alone.
  if (absl::Status dir = EnsurePrivateDirectory(dir_); !dir.ok()) return dir;
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read spool ", dir_, ": ", strerror(errno)));
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name[0] == '.' || !absl::EndsWith(name, ".json")) continue;
    files.push_back(absl::StrCat(dir_, "/", name));
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<std::string> Spool::Read(const std::string& file) const {
  int fd = open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot read ", file));
  std::string text;
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  if (n < 0) return absl::DataLossError(absl::StrCat("error reading ", file));
  return text;
}

absl::Status Spool::Remove(const std::string& file) {
  counted_.reset();
  if (unlink(file.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot remove ", file, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

uint64_t Spool::Bytes() const {
  uint64_t total = 0;
  absl::StatusOr<std::vector<std::string>> files = Pending();
  if (!files.ok()) return 0;
  for (const std::string& f : *files) {
    struct stat st;
    if (stat(f.c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

}  // namespace ers

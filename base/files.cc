#include "base/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace ers {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(path.c_str(), "rb"), &fclose);
  if (!f) {
    const int err = errno;
    std::string message = absl::StrCat("cannot read ", path, ": ", strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(message)
                         : absl::NotFoundError(message);
  }
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f.get())) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxSmallFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is larger than 64 MiB"));
    }
  }
  if (ferror(f.get())) return absl::DataLossError(absl::StrCat("error reading ", path));
  return text;
}

}  // namespace ers

#include "cli/scan_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "base/private_files.h"

namespace ers {

absl::StatusOr<ScanLock> ScanLock::Acquire(const std::string& db_path) {
  const std::string path = db_path + ".lock";
  absl::StatusOr<int> opened = OpenPrivateFile(path, O_CREAT);
  if (!opened.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("lock file: ", opened.status().message()));
  }
  const int fd = *opened;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    std::string holder =
        n > 0 ? std::string(absl::StripAsciiWhitespace(std::string(buf, n))) : "?";
    return absl::UnavailableError(absl::StrCat(
        "another ers scan (pid ", holder, ") is using the inventory ", db_path,
        "; wait for it to finish, or stop it (it saves a resume point)"));
  }
  std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only informative; the lock itself holds.
  }
  return ScanLock(fd);
}

ScanLock::~ScanLock() { Release(); }

void ScanLock::Release() {
  if (fd_ >= 0) close(fd_);  // releases the flock
  fd_ = -1;
}

}  // namespace ers

#include "base/private_files.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ers {
namespace {

absl::Status Denied(absl::string_view what, const std::string& path, absl::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat(what, " ", path, ": ", why));
}

std::string Mode(mode_t mode) { return absl::StrFormat("%04o", mode & 07777); }

// CheckDirectory checks an existing directory for EnsurePrivateDirectory.
absl::Status CheckDirectory(const std::string& dir, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    return Denied("directory", dir, "is a symbolic link; give the real path");
  }
  if (!S_ISDIR(st.st_mode)) return Denied("directory", dir, "is not a directory");
  if (st.st_uid != geteuid()) {
    return Denied("directory", dir,
                  absl::StrCat("belongs to uid ", st.st_uid, ", not to this user (uid ",
                               geteuid(), ")"));
  }
  if ((st.st_mode & 022) != 0) {
    return Denied("directory", dir,
                  absl::StrCat("may be written by others (mode ", Mode(st.st_mode),
                               "); chmod go-w ", dir));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnsurePrivateDirectory(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  if (absl::Status parents = EnsureParentDirectory(dir); !parents.ok()) return parents;
  if (mkdir(dir.c_str(), 0700) == 0) {
    chmod(dir.c_str(), 0700);  // whatever the umask
    return absl::OkStatus();
  }
  if (errno != EEXIST) {
    return Denied("cannot create directory", dir, strerror(errno));
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return Denied("cannot inspect directory", dir, strerror(errno));
  return CheckDirectory(dir, st);
}

absl::Status EnsureParentDirectory(const std::string& path) {
  const size_t last = path.rfind('/');
  if (last == std::string::npos || last == 0) return absl::OkStatus();
  // Every ancestor: created 0700 when missing; an existing one may be
  // anyone's (/, /home, /var/lib) but not a symbolic link owned by another
  // user, nor writable by others unless sticky (/tmp).
  for (size_t slash = path.find('/', 1); slash != std::string::npos && slash <= last;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0700) == 0) {
      chmod(dir.c_str(), 0700);
      continue;
    }
    if (errno != EEXIST) return Denied("cannot create directory", dir, strerror(errno));
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0) return Denied("cannot inspect directory", dir, strerror(errno));
    if (S_ISLNK(st.st_mode)) {
      if (st.st_uid != geteuid() && st.st_uid != 0) {
        return Denied("directory", dir, "is a symbolic link owned by another user");
      }
      if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Denied("directory", dir, "is a symbolic link to no directory");
      }
    }
    if (!S_ISDIR(st.st_mode)) return Denied("directory", dir, "is not a directory");
    if (slash == last && (st.st_mode & 002) != 0 && (st.st_mode & S_ISVTX) == 0) {
      return Denied("directory", dir,
                    absl::StrCat("may be written by anyone (mode ", Mode(st.st_mode), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> OpenPrivateFile(const std::string& path, int flags) {
  int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | flags, 0600);
  if (fd < 0) {
    if (errno == ELOOP) return Denied("file", path, "is a symbolic link; give the real path");
    return Denied("cannot open", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Denied("file", path, "is not a regular file");
  }
  if (st.st_uid != geteuid()) {
    close(fd);
    return Denied("file", path,
                  absl::StrCat("belongs to uid ", st.st_uid, ", not to this user (uid ",
                               geteuid(), ")"));
  }
  if ((st.st_mode & 077) != 0) fchmod(fd, st.st_mode & 0700);
  return fd;
}

absl::Status WritePrivateFileAtomically(const std::string& path, absl::string_view contents) {
  return WriteFileAtomically(path, contents, 0600);
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 mode_t mode) {
  if (absl::Status parent = EnsureParentDirectory(path); !parent.ok()) return parent;
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    // Left by a crash, if it is ours and a plain file; anything else is
    // refused rather than written through.
    struct stat st;
    if (lstat(tmp.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
      unlink(tmp.c_str());
      fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    } else {
      return Denied("cannot write", tmp, "it exists and is not a file of ours; remove it");
    }
  }
  if (fd < 0) return Denied("cannot write", tmp, strerror(errno));
  fchmod(fd, mode);  // whatever the umask
  size_t done = 0;
  bool ok = true;
  while (ok && done < contents.size()) {
    ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    unlink(tmp.c_str());
    return absl::DataLossError(absl::StrCat("cannot write ", path, ": ", strerror(err)));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);  // the rename itself survives a crash
    close(dir_fd);
  }
  return absl::OkStatus();
}

void DisableCoreDumps() {
  const rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace ers

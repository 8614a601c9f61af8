#include "scanner/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ers {

uint64_t CurrentFileLimit() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  return rl.rlim_cur;
}

absl::StatusOr<uint64_t> RaiseFileLimit(uint64_t wanted) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return absl::InternalError(
        absl::StrCat("getrlimit(RLIMIT_NOFILE): ", strerror(errno)));
  }
  if (rl.rlim_cur >= wanted) return rl.rlim_cur;
  if (rl.rlim_max < wanted) {
    uint64_t nr_open = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    rlimit raised = rl;
    raised.rlim_max = std::min<uint64_t>(wanted, nr_open > 0 ? nr_open : wanted);
    raised.rlim_cur = raised.rlim_max;
    if (raised.rlim_max > rl.rlim_max && setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      return raised.rlim_cur;
    }
  }
  rl.rlim_cur = std::min<uint64_t>(wanted, rl.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return absl::InternalError(
        absl::StrCat("setrlimit(RLIMIT_NOFILE): ", strerror(errno)));
  }
  return rl.rlim_cur;
}

}  // namespace ers

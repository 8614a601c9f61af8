// fd_limit.h: the process's open-file limit, which bounds how many
// connections can be in flight. Raising it is a process-wide act, so the
// program (cli/) calls RaiseFileLimit, never the library by itself.
#ifndef ERS_SCANNER_FD_LIMIT_H_
#define ERS_SCANNER_FD_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace ers {

// RaiseFileLimit raises RLIMIT_NOFILE's soft limit towards |wanted|: up to
// the hard limit, and past it (up to fs.nr_open) when the process may raise
// hard limits (root). It returns the soft limit now in force.
[[nodiscard]] absl::StatusOr<uint64_t> RaiseFileLimit(uint64_t wanted);

// CurrentFileLimit returns the soft RLIMIT_NOFILE.
uint64_t CurrentFileLimit();

}  // namespace ers

#endif  // ERS_SCANNER_FD_LIMIT_H_

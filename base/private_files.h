// private_files.h: files and directories that hold what only their owner
// may see (the inventory, the spool, credentials, the scan lock), created
// owner-only whatever the umask, without following symbolic links another
// user could plant, and checked before an existing one is trusted.
#ifndef ERS_BASE_PRIVATE_FILES_H_
#define ERS_BASE_PRIVATE_FILES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ers {

// EnsurePrivateDirectory creates |dir| (mode 0700) and its missing parents
// (0700), or checks an existing |dir|: a real directory (not a symbolic
// link), owned by this user, writable by nobody else. kPermissionDenied
// names the directory and what is wrong with it.
[[nodiscard]] absl::Status EnsurePrivateDirectory(const std::string& dir);

// EnsureParentDirectory does the same for the directory holding |path|
// (nothing for a bare file name in the working directory); parents that
// exist are only required not to be symbolic links another user owns.
[[nodiscard]] absl::Status EnsureParentDirectory(const std::string& path);

// OpenPrivateFile opens |path| for reading and writing with |flags| added
// (O_CREAT creates it 0600), never through a symbolic link, and checks that
// it is a regular file owned by this user; group and other permissions are
// removed from a file that has them. Returns the descriptor (O_CLOEXEC).
[[nodiscard]] absl::StatusOr<int> OpenPrivateFile(const std::string& path, int flags);

// WritePrivateFileAtomically replaces |path| with |contents| (mode 0600):
// written to |path|.tmp (created exclusively, never through a link; a stale
// one of ours from a crash is removed first), fsynced, renamed, and the
// directory fsynced.
[[nodiscard]] absl::Status WritePrivateFileAtomically(const std::string& path,
                                                      absl::string_view contents);

// WriteFileAtomically is WritePrivateFileAtomically with |mode| instead of
// 0600: for files other users must read (a metrics file for node_exporter).
[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path,
                                               absl::string_view contents, mode_t mode);

// DisableCoreDumps keeps this process from writing a core file (and from
// being ptrace-attached by other processes of the same user) from now on:
// called once a secret is in memory.
void DisableCoreDumps();

}  // namespace ers

#endif  // ERS_BASE_PRIVATE_FILES_H_

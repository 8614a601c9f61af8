// files.h: reading the small files a user hands us (configuration, PEM
// bundles, exclusion lists, policies) one way: bounded, with errors that
// name the file and the reason.
#ifndef ERS_BASE_FILES_H_
#define ERS_BASE_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace ers {

// kMaxSmallFileBytes bounds ReadSmallFile (the largest CA bundles are a few
// MiB; exclusion lists of millions of lines fit).
inline constexpr size_t kMaxSmallFileBytes = 64 << 20;

// ReadSmallFile reads the whole file at |path|. It fails with kNotFound or
// kPermissionDenied when it cannot be opened, kInvalidArgument when it is
// larger than kMaxSmallFileBytes, kDataLoss on a read error; every message
// names |path|.
[[nodiscard]] absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

}  // namespace ers

#endif  // ERS_BASE_FILES_H_

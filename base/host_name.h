// host_name.h: the DNS host name rules, one check for every place that
// takes a name from a person or a peer (--servers, --domain, the names of
// a certificate request, the names a CLM issues for).
#ifndef ERS_BASE_HOST_NAME_H_
#define ERS_BASE_HOST_NAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ers {

// ValidateHostName checks |name| against the DNS host name rules: at most 253
// characters, labels of 1 to 63 letters, digits, hyphens or underscores, not
// starting or ending with a hyphen. The error says which rule failed.
[[nodiscard]] absl::Status ValidateHostName(absl::string_view name);

}  // namespace ers

#endif  // ERS_BASE_HOST_NAME_H_

// list_syntax.h: the comma-separated list syntax shared by every target
// parser ("a, b,c"): entries are trimmed, and an empty entry is an error that
// names its position.
#ifndef ERS_BASE_LIST_SYNTAX_H_
#define ERS_BASE_LIST_SYNTAX_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ers {

// SplitList splits |text| on commas and trims ASCII whitespace around each
// entry. |what| names the list in errors ("port list"). An empty |text| or an
// empty entry gives kInvalidArgument. The views alias |text|.
[[nodiscard]] absl::StatusOr<std::vector<absl::string_view>> SplitList(
    absl::string_view text, absl::string_view what);

}  // namespace ers

#endif  // ERS_BASE_LIST_SYNTAX_H_

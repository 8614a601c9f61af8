#include "base/duration.h"

#include "absl/strings/str_cat.h"

namespace ers {

absl::StatusOr<absl::Duration> ParseDurationIn(absl::string_view text,
                                               absl::string_view what,
                                               absl::Duration min,
                                               absl::Duration max) {
  absl::Duration d;
  if (!absl::ParseDuration(std::string(text), &d) || d < min || d > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " \"", text, "\" is not a duration from ", absl::FormatDuration(min),
        " to ", absl::FormatDuration(max), " (e.g. 500ms, 5s)"));
  }
  return d;
}

}  // namespace ers

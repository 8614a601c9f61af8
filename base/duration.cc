#include "base/duration.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ers {

absl::StatusOr<absl::Duration> ParseDurationIn(absl::string_view text,
                                               absl::string_view what,
                                               absl::Duration min,
                                               absl::Duration max) {
  absl::Duration d;
  int64_t days = 0;
  bool parsed = false;
  absl::string_view number = text;
  if (absl::ConsumeSuffix(&number, "d")) {
    // Whole days, which Go's syntax lacks: "30d" for certificate lifetimes.
    parsed = absl::SimpleAtoi(number, &days) && days >= 0 && days <= 100000;
    d = absl::Hours(24 * days);
  } else {
    parsed = absl::ParseDuration(std::string(text), &d);
  }
  if (!parsed || d < min || d > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " \"", text, "\" is not a duration from ", absl::FormatDuration(min),
        " to ", absl::FormatDuration(max), " (e.g. 500ms, 5s, 2h, 30d)"));
  }
  return d;
}

}  // namespace ers

// duration.h: durations given by people ("500ms", "5s", "2m"), as flags and
// in configuration, parsed one way everywhere.
#ifndef ERS_BASE_DURATION_H_
#define ERS_BASE_DURATION_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ers {

// ParseDurationIn parses |text| (Go syntax: "300ms", "1.5s", "2m"; or whole
// days, "30d") and
// checks that it lies in [min, max]. On failure it returns kInvalidArgument
// naming |what| (e.g. "--connect-timeout") and the allowed range.
[[nodiscard]] absl::StatusOr<absl::Duration> ParseDurationIn(
    absl::string_view text, absl::string_view what, absl::Duration min,
    absl::Duration max);

}  // namespace ers

#endif  // ERS_BASE_DURATION_H_

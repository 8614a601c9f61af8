// color.h: colour on terminals, the way users of other tools expect it:
// --color=auto (the default: only when the stream is a terminal and
// NO_COLOR is unset; https://no-color.org), always, or never.
#ifndef ERS_CLI_COLOR_H_
#define ERS_CLI_COLOR_H_

#include <cstdio>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/flags.h"

namespace ers {

class Colors {
 public:
  // Declare adds --color[=WHEN] to |flags|.
  void Declare(FlagSet& flags);
  // Decide settles whether |stream| gets colour; kInvalidArgument for a
  // --color value other than auto, always and never.
  [[nodiscard]] absl::Status Decide(FILE* stream);

  bool on() const { return on_; }
  // Severity wraps |text| in the colour of a finding severity ("critical"
  // red, "high" magenta, "medium" yellow, "low" cyan); Outcome in that of a
  // result ("tls" green, local errors red, anything else yellow).
  std::string Severity(absl::string_view severity, absl::string_view text) const;
  std::string Outcome(absl::string_view outcome, absl::string_view text) const;

 private:
  std::string Wrap(const char* code, absl::string_view text) const;
  std::optional<std::string> flag_;
  bool on_ = false;
};

}  // namespace ers

#endif  // ERS_CLI_COLOR_H_

// config_lines.h: the line syntax every configuration file of ers shares
// (exclusion lists, policies, the CLM's tokens file): one entry per line,
// '#' starts a comment, blank lines are ignored, and errors name the file
// and line.
#ifndef ERS_BASE_CONFIG_LINES_H_
#define ERS_BASE_CONFIG_LINES_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ers {

// ConfigLine is one meaningful line: its 1-based number and its text without
// the comment and surrounding whitespace (a view into the file's text).
struct ConfigLine {
  int number = 0;
  absl::string_view text;
};

// ConfigLines returns the meaningful lines of |text|, in order.
std::vector<ConfigLine> ConfigLines(absl::string_view text);

// ConfigLineError returns kInvalidArgument "SOURCE:LINE: WHY".
absl::Status ConfigLineError(absl::string_view source, const ConfigLine& line,
                             absl::string_view why);

}  // namespace ers

#endif  // ERS_BASE_CONFIG_LINES_H_

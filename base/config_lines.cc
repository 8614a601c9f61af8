#include "base/config_lines.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ers {

std::vector<ConfigLine> ConfigLines(absl::string_view text) {
  std::vector<ConfigLine> out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) out.push_back({number, line});
  }
  return out;
}

absl::Status ConfigLineError(absl::string_view source, const ConfigLine& line,
                             absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line.number, ": ", why));
}

}  // namespace ers

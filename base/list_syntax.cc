#include "base/list_syntax.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ers {

absl::StatusOr<std::vector<absl::string_view>> SplitList(
    absl::string_view text, absl::string_view what) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  std::vector<absl::string_view> out;
  int position = 0;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    ++position;
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " \"", text, "\": entry ", position,
                       " is empty (stray comma?)"));
    }
    out.push_back(entry);
  }
  return out;
}

}  // namespace ers

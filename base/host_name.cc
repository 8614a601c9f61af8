#include "base/host_name.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ers {
namespace {

constexpr size_t kMaxHostNameLen = 253;
constexpr size_t kMaxLabelLen = 63;

}  // namespace

absl::Status ValidateHostName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty host name");
  if (name.size() > kMaxHostNameLen) {
    return absl::InvalidArgumentError(
        absl::StrCat("host name \"", name.substr(0, 40), "...\" is ",
                     name.size(), " characters long (at most 253)"));
  }
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("host name \"", name, "\" has an empty label"));
    }
    if (label.size() > kMaxLabelLen) {
      return absl::InvalidArgumentError(absl::StrCat(
          "host name \"", name, "\": label \"", label,
          "\" is longer than 63 characters"));
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
        return absl::InvalidArgumentError(absl::StrCat(
            "host name \"", name, "\" contains '",
            absl::ascii_isprint(c) ? std::string(1, c) : std::string("\\x?"),
            "' (only letters, digits, '-', '_' and '.' are allowed)"));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "host name \"", name, "\": label \"", label,
          "\" starts or ends with a hyphen"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ers

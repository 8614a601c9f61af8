#include "cli/color.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace ers {

void Colors::Declare(FlagSet& flags) {
  flags.OptionalValue("color", "WHEN",
                      "colour: auto (on a terminal, unless NO_COLOR is set), always, never",
                      "always", &flag_);
}

absl::Status Colors::Decide(FILE* stream) {
  const std::string when = flag_.value_or("auto");
  if (when == "always") {
    on_ = true;
  } else if (when == "never") {
    on_ = false;
  } else if (when == "auto") {
    const char* no_color = getenv("NO_COLOR");
    on_ = isatty(fileno(stream)) != 0 && (no_color == nullptr || no_color[0] == '\0');
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--color=", when, ": use auto, always or never"));
  }
  return absl::OkStatus();
}

std::string Colors::Wrap(const char* code, absl::string_view text) const {
  if (!on_ || code == nullptr) return std::string(text);
  return absl::StrCat("\033[", code, "m", text, "\033[0m");
}

std::string Colors::Severity(absl::string_view severity, absl::string_view text) const {
  const char* code = severity == "critical" ? "1;31"
                     : severity == "high"   ? "35"
                     : severity == "medium" ? "33"
                     : severity == "low"    ? "36"
                                            : nullptr;
  return Wrap(code, text);
}

std::string Colors::Outcome(absl::string_view outcome, absl::string_view text) const {
  // TLS found green, local errors red, the rest (refused, timeout, ...)
  // yellow: the server answered, but not with a certificate.
  const char* code = outcome == "tls" ? "32" : outcome == "error" ? "31" : "33";
  return Wrap(code, text);
}

}  // namespace ers

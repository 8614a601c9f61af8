// flags.h: the small command-line flag parser of the ers program. Each
// subcommand declares its flags; "--name value" and "--name=value" are both
// accepted, and unknown flags are errors that list the known ones.
#ifndef ERS_CLI_FLAGS_H_
#define ERS_CLI_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ers {

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  // String declares "--name VALUE"; |*out| is set when the flag is given
  // (the last occurrence wins).
  void String(const char* name, const char* value_name, const char* help,
              std::optional<std::string>* out);
  // Bool declares a "--name" switch.
  void Bool(const char* name, const char* help, bool* out);

  // Parse reads |args|. Non-flag arguments go to |*positional| when it is not
  // null, and are an error otherwise. "--help" sets help_requested().
  [[nodiscard]] absl::Status Parse(const std::vector<std::string>& args,
                                   std::vector<std::string>* positional);

  bool help_requested() const { return help_requested_; }

  // Usage returns the flag table for --help.
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string value_name;  // empty for switches
    std::string help;
    std::optional<std::string>* string_out = nullptr;
    bool* bool_out = nullptr;
  };
  const Flag* Find(absl::string_view name) const;

  std::string command_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

}  // namespace ers

#endif  // ERS_CLI_FLAGS_H_

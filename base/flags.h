// flags.h: the command-line flag parser of the ers programs. Each
// subcommand declares typed flags (strings, switches, counts, durations);
// "--name value" and "--name=value" are both accepted; unknown flags and
// values out of range are errors that name the flag and what it takes.
#ifndef ERS_BASE_FLAGS_H_
#define ERS_BASE_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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
  // OptionalValue declares "--name" (|*out| becomes |bare|) that also
  // takes "--name=VALUE" (only in that form, as GNU optional arguments).
  void OptionalValue(const char* name, const char* value_name, const char* help,
                     const char* bare, std::optional<std::string>* out);
  // Count declares "--name N", an integer in [min, max]; |*out| is set when
  // the flag is given.
  void Count(const char* name, const char* help, uint64_t min, uint64_t max,
             std::optional<uint64_t>* out);
  // Duration declares "--name DURATION" ("500ms", "5s"), in [min, max].
  void Duration(const char* name, const char* help, absl::Duration min,
                absl::Duration max, std::optional<absl::Duration>* out);

  // Alias lets |spelling| (a short form such as "-p", or nmap's "-iL")
  // stand for the declared flag "--|name|"; a value follows as the next
  // argument.
  void Alias(const char* spelling, const char* name);

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
    std::optional<std::string> bare;  // OptionalValue: the value of "--name" alone
    bool* bool_out = nullptr;
    std::optional<uint64_t>* count_out = nullptr;
    std::optional<absl::Duration>* duration_out = nullptr;
    uint64_t count_min = 0, count_max = 0;
    absl::Duration duration_min, duration_max;
  };
  std::vector<std::pair<std::string, std::string>> aliases_;  // spelling, name
  // Store parses |value| into |flag|'s destination.
  absl::Status Store(const Flag& flag, absl::string_view value) const;
  const Flag* Find(absl::string_view name) const;

  std::string command_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

}  // namespace ers

#endif  // ERS_BASE_FLAGS_H_

// command_support.h: pieces shared by the ers subcommands: opening the
// inventory named by --db, and loading the configured exclusion file.
#ifndef ERS_CLI_COMMAND_SUPPORT_H_
#define ERS_CLI_COMMAND_SUPPORT_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "inventory/config_store.h"
#include "inventory/inventory.h"
#include "x509/findings.h"
#include "base/files.h"
#include "base/flags.h"
#include "cli/commands.h"
#include "base/ip_address.h"
#include "scanner/prefix_set.h"

namespace ers {

// The settings key holding the exclusion file's absolute path.
inline constexpr const char* kExcludeFileSetting = "exclude_file";
// The settings key holding the configured NAME=ADDRESS mapping.
inline constexpr const char* kResolveSetting = "resolve";
// The settings keys of the trust and policy files every scan uses (absolute
// paths; roots and intermediates comma-separated).
inline constexpr const char* kRootsSetting = "roots";
inline constexpr const char* kIntermediatesSetting = "intermediates";
inline constexpr const char* kPolicySetting = "policy";
inline constexpr const char* kStarttlsSetting = "starttls";
// The DNS domains ers discover --domain added (comma-separated), and the DNS
// server (ADDRESS[:PORT]) of --resolver.
inline constexpr const char* kDomainsSetting = "domains";
inline constexpr const char* kResolverSetting = "resolver";

// SettingOr returns |flag| when given, else the stored setting |key|, else "".
[[nodiscard]] absl::StatusOr<std::string> SettingOr(ConfigStore& store,
                                                    const std::optional<std::string>& flag,
                                                    const char* key);
// LoadPolicy reads the policy file |path| ("" gives the default policy).
[[nodiscard]] absl::StatusOr<Policy> LoadPolicy(const std::string& path);

// ParseCommandFlags parses a command's |args| into |flags| (non-flag
// arguments into |*positional|, when given). It returns the exit code when
// the command ends here: kExitUsage after printing what is wrong with a
// flag, kExitOk after printing |help| and the flag table for --help; and
// nullopt when the command goes on. Every command starts with it.
[[nodiscard]] std::optional<int> ParseCommandFlags(
    FlagSet& flags, const std::vector<std::string>& args, const char* help,
    const Streams& io, std::vector<std::string>* positional = nullptr);

// AddDbFlag declares --db, the inventory every command works on.
void AddDbFlag(FlagSet& flags, std::optional<std::string>* db);

// OpenInventory opens the inventory at |db_flag|, or at
// DefaultDatabasePath().
[[nodiscard]] absl::StatusOr<std::unique_ptr<Inventory>> OpenInventory(
    const std::optional<std::string>& db_flag);

// OpenExistingInventory is OpenInventory for commands that only read: a
// missing file is kNotFound naming the path and how to create one, never
// a new empty inventory.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Inventory>> OpenExistingInventory(
    const std::optional<std::string>& db_flag);

// FailOn is --fail-on SEVERITY: exit kExitFindings when the run holds a
// finding of that severity or above.
struct FailOn {
  std::optional<std::string> flag;
  // Declare adds --fail-on to |flags|.
  void Declare(FlagSet& flags);
  // Check returns the severity given (nullopt when none), or
  // kInvalidArgument for a word that is no severity.
  [[nodiscard]] absl::StatusOr<std::optional<Severity>> Parsed() const;
};
// FindingsAtOrAbove reports whether run |run| of |inventory| holds a finding
// of |severity| or above, and prints one line naming them to |io.err|.
[[nodiscard]] absl::StatusOr<bool> FindingsAtOrAbove(Inventory& inventory, int64_t run,
                                                     Severity severity, const Streams& io);

// The settings key holding inline exclusions (ers discover --exclude), one
// entry per line.
inline constexpr const char* kExcludeSetting = "exclude";

// ExpandListFlag turns "@FILE" in a list flag's value into the file's
// entries (newline- or comma-separated, '#' comments), comma-joined; other
// values are returned as given. |flag| names the flag in errors.
[[nodiscard]] absl::StatusOr<std::optional<std::string>> ExpandListFlag(
    const std::optional<std::string>& value, const char* flag);

// TargetsFile is nmap's -iL: a file of targets, one or more per line ('#'
// comments), each an IP range (--ips syntax) or else a server (--servers).
// ReadTargetsFile appends them to |servers| and |ips| (comma lists).
[[nodiscard]] absl::Status ReadTargetsFile(const std::string& path,
                                           std::optional<std::string>* servers,
                                           std::optional<std::string>* ips);

// ExpandTargetFlags applies ExpandListFlag to --servers, --ips and
// --exclude, then adds the targets of |targets_file| (-iL) when given.
[[nodiscard]] absl::Status ExpandTargetFlags(const std::optional<std::string>& targets_file,
                                             std::optional<std::string>* servers,
                                             std::optional<std::string>* ips,
                                             std::optional<std::string>* exclude);

// ExclusionLines turns a comma list of exclusions into the exclusion-file
// syntax (one per line), checking each: kInvalidArgument names a bad one.
[[nodiscard]] absl::StatusOr<std::string> ExclusionLines(const std::string& list);

// Rfc3339 formats Unix seconds as RFC 3339 in UTC ("2026-12-02T05:08:28Z").
std::string Rfc3339(int64_t unix);

// RunJson describes a run as ers report --json and ers runs --json give it
// (docs/report-schema.md).
nlohmann::ordered_json RunJson(const RunInfo& run);

// AbsolutePath returns |path| made absolute against the working directory,
// so a file named in `ers discover` is still found by `ers scan` from cron.
std::string AbsolutePath(const std::string& path);

// LoadExclusions loads |override_path| if given, else the configured
// exclusion file, else returns an empty set. |*out_source| names the file
// used (empty when none).
[[nodiscard]] absl::StatusOr<PrefixSet> LoadExclusions(
    ConfigStore& store, const std::optional<std::string>& override_path,
    std::string* out_source);

}  // namespace ers

#endif  // ERS_CLI_COMMAND_SUPPORT_H_

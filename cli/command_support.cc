#include "cli/command_support.h"

#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/config_lines.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "cli/commands.h"
#include "inventory/queries.h"
#include "base/list_syntax.h"
#include "scanner/server_list.h"

namespace ers {

int ReportError(const Streams& io, const absl::Status& status) {
  fprintf(io.err, "ers: %s\n", std::string(status.message()).c_str());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:     // a bad flag or value
    case absl::StatusCode::kNotFound:            // a named file or run is missing
    case absl::StatusCode::kFailedPrecondition:  // nothing configured or scanned yet
      return kExitUsage;
    default:
      return kExitFatal;
  }
}

void AddDbFlag(FlagSet& flags, std::optional<std::string>* db) {
  flags.String("db", "PATH", "inventory database (default: see ers --help)", db);
}

std::optional<int> ParseCommandFlags(FlagSet& flags, const std::vector<std::string>& args,
                                     const char* help, const Streams& io,
                                     std::vector<std::string>* positional) {
  absl::Status parsed = flags.Parse(args, positional);
  if (!parsed.ok()) return ReportError(io, parsed);
  if (flags.help_requested()) {
    fprintf(io.out, "%s%s", help, flags.Usage().c_str());
    return kExitOk;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<Inventory>> OpenInventory(
    const std::optional<std::string>& db_flag) {
  if (db_flag.has_value()) return Inventory::Open(*db_flag);
  absl::StatusOr<std::string> path = DefaultDatabasePath();
  if (!path.ok()) return path.status();
  return Inventory::Open(*path);
}

absl::StatusOr<std::unique_ptr<Inventory>> OpenExistingInventory(
    const std::optional<std::string>& db_flag) {
  absl::StatusOr<std::string> path =
      db_flag.has_value() ? absl::StatusOr<std::string>(*db_flag) : DefaultDatabasePath();
  if (!path.ok()) return path.status();
  struct stat st;
  if (stat(path->c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no inventory at ", *path, ": ers discover --servers/--ips creates one (--db or "
        "$ERS_DB names another)"));
  }
  return Inventory::Open(*path);
}

namespace {

// FileEntries returns the entries of a list file: ConfigLines, each split
// at commas and white space.
absl::StatusOr<std::vector<std::string>> FileEntries(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  std::vector<std::string> out;
  for (const ConfigLine& line : ConfigLines(*text)) {
    for (absl::string_view e : absl::StrSplit(line.text, absl::ByAnyChar(", \t"),
                                              absl::SkipWhitespace())) {
      out.emplace_back(e);
    }
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " lists no targets"));
  }
  return out;
}

void AppendList(std::optional<std::string>* list, const std::string& entry) {
  *list = list->has_value() && !(*list)->empty() ? absl::StrCat(**list, ",", entry) : entry;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> ExpandListFlag(const std::optional<std::string>& value,
                                                          const char* flag) {
  if (!value.has_value() || !absl::StartsWith(*value, "@")) return value;
  absl::StatusOr<std::vector<std::string>> entries = FileEntries(value->substr(1));
  if (!entries.ok()) {
    return absl::Status(entries.status().code(),
                        absl::StrCat(flag, " ", *value, ": ", entries.status().message()));
  }
  return std::optional<std::string>(absl::StrJoin(*entries, ","));
}

absl::Status ReadTargetsFile(const std::string& path, std::optional<std::string>* servers,
                             std::optional<std::string>* ips) {
  absl::StatusOr<std::vector<std::string>> entries = FileEntries(path);
  if (!entries.ok()) return entries.status();
  for (const std::string& e : *entries) {
    if (ParseIpRange(e).ok()) {
      AppendList(ips, e);
    } else if (absl::StatusOr<Server> s = ParseServer(e); s.ok()) {
      AppendList(servers, e);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": \"", e, "\" is neither an IP range nor a server name"));
    }
  }
  return absl::OkStatus();
}

absl::Status ExpandTargetFlags(const std::optional<std::string>& targets_file,
                               std::optional<std::string>* servers,
                               std::optional<std::string>* ips,
                               std::optional<std::string>* exclude) {
  for (auto [value, name] : {std::make_pair(servers, "--servers"), std::make_pair(ips, "--ips"),
                             std::make_pair(exclude, "--exclude")}) {
    absl::StatusOr<std::optional<std::string>> expanded = ExpandListFlag(*value, name);
    if (!expanded.ok()) return expanded.status();
    *value = *std::move(expanded);
  }
  if (targets_file.has_value()) return ReadTargetsFile(*targets_file, servers, ips);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExclusionLines(const std::string& list) {
  absl::StatusOr<std::vector<absl::string_view>> items = SplitList(list, "--exclude list");
  if (!items.ok()) return items.status();
  const std::string lines = absl::StrJoin(*items, "\n");
  absl::StatusOr<PrefixSet> parsed = ParseExclusionList(lines, "--exclude");
  if (!parsed.ok()) return parsed.status();
  return lines;
}

absl::StatusOr<std::string> SettingOr(ConfigStore& store,
                                      const std::optional<std::string>& flag,
                                      const char* key) {
  if (flag.has_value()) return *flag;
  absl::StatusOr<std::optional<std::string>> stored = store.GetSetting(key);
  if (!stored.ok()) return stored.status();
  return stored->value_or("");
}

absl::StatusOr<Policy> LoadPolicy(const std::string& path) {
  if (path.empty()) return Policy();
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  return ParsePolicy(*text, path);
}

void FailOn::Declare(FlagSet& flags) {
  flags.String("fail-on", "SEVERITY",
               "exit 4 when the run has a finding of SEVERITY (critical, high, medium, low, "
               "info) or above",
               &flag);
}

absl::StatusOr<std::optional<Severity>> FailOn::Parsed() const {
  if (!flag.has_value()) return std::optional<Severity>();
  std::optional<Severity> s = ParseSeverity(*flag);
  if (!s.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--fail-on \"", *flag, "\" is not a severity (critical, high, medium, low, info)"));
  }
  return s;
}

absl::StatusOr<bool> FindingsAtOrAbove(Inventory& inventory, int64_t run, Severity severity,
                                       const Streams& io) {
  absl::StatusOr<std::vector<FindingCount>> counts = RunFindingCounts(inventory, run);
  if (!counts.ok()) return counts.status();
  std::string hits;
  for (const FindingCount& f : *counts) {
    std::optional<Severity> s = ParseSeverity(f.severity);
    if (!s.has_value() || *s < severity) continue;
    absl::StrAppend(&hits, hits.empty() ? "" : ", ", f.id, " (", f.severity, ", ", f.endpoints,
                    f.endpoints == 1 ? " endpoint)" : " endpoints)");
  }
  if (hits.empty()) return false;
  fprintf(io.err, "ers: run %lld has findings of severity %s or above: %s\n",
          static_cast<long long>(run), SeverityName(severity), hits.c_str());
  return true;
}

std::string Rfc3339(int64_t unix) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix), absl::UTCTimeZone());
}

nlohmann::ordered_json RunJson(const RunInfo& r) {
  using Json = nlohmann::ordered_json;
  Json outcomes = Json::object();
  for (const auto& [name, n] : r.outcomes) outcomes[name] = n;
  return {{"id", r.id},
          {"kind", r.kind},
          {"status", r.status},
          {"started", Rfc3339(r.started_unix)},
          {"finished", r.finished_unix != 0 ? Json(Rfc3339(r.finished_unix)) : Json(nullptr)},
          {"duration_s", r.duration_s},
          {"targets", r.targets},
          {"results", r.results},
          {"tls_endpoints", r.tls},
          {"outcomes", outcomes},
          {"error", r.error.empty() ? Json(nullptr) : Json(r.error)}};
}

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

absl::StatusOr<PrefixSet> LoadExclusions(
    ConfigStore& store, const std::optional<std::string>& override_path,
    std::string* out_source) {
  out_source->clear();
  std::optional<std::string> path = override_path;
  if (!path.has_value()) {
    absl::StatusOr<std::optional<std::string>> configured =
        store.GetSetting(kExcludeFileSetting);
    if (!configured.ok()) return configured.status();
    path = *configured;
  }
  if (!path.has_value() || path->empty()) return PrefixSet();
  *out_source = *path;
  return LoadExclusionFile(*path);
}

}  // namespace ers

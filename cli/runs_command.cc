// runs_command.cc: `ers runs`, the history of the inventory: every scan,
// ad-hoc scan and import, newest first, with when it ran, how it ended and
// what it found.
#include <cinttypes>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/flags.h"
#include "base/printable.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "inventory/inventory.h"

namespace ers {
namespace {

constexpr const char* kRunsHelp = R"(Usage: ers runs [flags]

Lists the runs recorded in the inventory, newest first: id, kind
(configured: ers scan of the discover configuration; adhoc: ers scan with
targets on the command line; import: ers import), start (UTC), duration,
status (done, interrupted, failed, killed, running), targets, TLS
endpoints and the results by outcome. ers report --run N describes one,
--since N compares with another.

Examples:
  ers runs
  ers runs --limit 100 --json

Flags:
)";

std::string Time(int64_t unix) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(unix), absl::UTCTimeZone());
}

}  // namespace

int RunRuns(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db;
  std::optional<uint64_t> limit;
  bool json_out = false;
  FlagSet flags("runs");
  flags.Count("limit", "list at most N runs (default 20)", 1, 1000000, &limit);
  flags.Bool("json", "print the runs as JSON", &json_out);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kRunsHelp, io)) return *done;
  absl::StatusOr<std::unique_ptr<Inventory>> inv = OpenExistingInventory(db);
  if (!inv.ok()) return ReportError(io, inv.status());
  absl::StatusOr<std::vector<RunInfo>> runs =
      (*inv)->Runs(static_cast<int>(limit.value_or(20)));
  if (!runs.ok()) return ReportError(io, runs.status());
  if (json_out) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const RunInfo& r : *runs) out.push_back(RunJson(r));
    fprintf(io.out, "%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  if (runs->empty()) {
    fprintf(io.out, "no runs yet in %s (ers scan records one)\n", (*inv)->path().c_str());
    return kExitOk;
  }
  fprintf(io.out, "%6s  %-10s  %-19s  %9s  %-11s  %8s  %6s  %s\n", "RUN", "KIND",
          "STARTED (UTC)", "DURATION", "STATUS", "TARGETS", "TLS", "OUTCOMES");
  for (const RunInfo& r : *runs) {
    std::string outcomes;
    for (const auto& [name, n] : r.outcomes) {
      absl::StrAppend(&outcomes, outcomes.empty() ? "" : ", ", name, " ", n);
    }
    if (!r.error.empty()) absl::StrAppend(&outcomes, outcomes.empty() ? "" : "; ", r.error);
    const double duration =
        r.duration_s > 0 ? r.duration_s
                         : static_cast<double>(r.finished_unix > r.started_unix
                                                   ? r.finished_unix - r.started_unix
                                                   : 0);
    fprintf(io.out, "%6lld  %-10s  %-19s  %7.1f s  %-11s  %8" PRIu64 "  %6" PRIu64 "  %s\n",
            static_cast<long long>(r.id), r.kind.c_str(), Time(r.started_unix).c_str(),
            duration, r.status.c_str(), r.targets, r.tls, Printable(outcomes).c_str());
  }
  return kExitOk;
}

}  // namespace ers

// report_command.cc: `ers report`, what the inventory says about the latest
// scan: expiring certificates per threshold, findings by severity,
// incomplete chains, issuer-organisation share among unexpired
// certificates, key and signature statistics, and what changed since the
// scan before. Human tables, or JSON with --json.
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/printable.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "inventory/inventory.h"
#include "inventory/queries.h"
#include "x509/findings.h"

namespace ers {
namespace {

constexpr const char* kReportHelp = R"(Usage: ers report [flags]

Reports on the latest scan recorded in the inventory: certificates
expiring within each threshold, findings by severity, endpoints with
incomplete chains, the share of each issuing organisation among unexpired
certificates, key and signature statistics, and what changed since the
scan before.

Examples:
  ers report
  ers report --json > report.json
  ers report --policy /etc/ers/policy.conf

Flags:
)";

using Json = nlohmann::ordered_json;

std::string Date(int64_t unix) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(unix), absl::UTCTimeZone());
}

}  // namespace

int RunReport(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db, policy_file, top;
  bool json_out = false;
  FlagSet flags("report");
  flags.Bool("json", "print the report as JSON", &json_out);
  flags.String("policy", "FILE", "expiry thresholds (see docs/findings.md)",
               &policy_file);
  flags.String("top", "N", "list at most N certificates per section (default 20)",
               &top);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kReportHelp, io)) {
    return *done;
  }
  Policy policy;
  if (policy_file.has_value()) {
    absl::StatusOr<std::string> text = ReadSmallFile(*policy_file);
    if (!text.ok()) return ReportError(io, text.status());
    absl::StatusOr<Policy> p = ParsePolicy(*text, *policy_file);
    if (!p.ok()) return ReportError(io, p.status());
    policy = *p;
  }
  int limit = 20;
  if (top.has_value() && (!absl::SimpleAtoi(*top, &limit) || limit < 0)) {
    return ReportError(io, absl::InvalidArgumentError("--top must be a number"));
  }
  absl::StatusOr<std::unique_ptr<Inventory>> inv = OpenInventory(db);
  if (!inv.ok()) return ReportError(io, inv.status());
  absl::StatusOr<ReportRuns> runs = FindReportRuns(**inv);
  if (!runs.ok()) return ReportError(io, runs.status());
  if (runs->latest == 0) {
    return ReportError(io, absl::FailedPreconditionError(
                               "no scan with TLS results in the inventory yet: "
                               "run ers scan first"));
  }
  const int64_t now = time(nullptr);
  Json report;
  report["run"] = runs->latest;
  report["previous_run"] = runs->previous;
  report["generated"] = absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(now),
                                         absl::UTCTimeZone());

  // Leaves of the latest run, with their endpoints.
  auto leaves = RunLeaves(**inv, runs->latest);
  if (!leaves.ok()) return ReportError(io, leaves.status());

  // 1. Expiry per threshold (the smallest threshold met), and expired.
  std::vector<int> thresholds = policy.expiry_thresholds_days;
  std::sort(thresholds.begin(), thresholds.end());
  Json expiring = Json::array();
  std::map<std::string, int> bucket_counts;
  for (const LeafSummary& leaf : *leaves) {
    const int64_t not_after = leaf.not_after;
    const int64_t days = not_after >= now ? (not_after - now) / 86400
                                          : -((now - not_after + 86399) / 86400);
    std::string bucket;
    if (not_after < now) {
      bucket = "expired";
    } else {
      for (int t : thresholds) {
        if (days < t) {
          bucket = absl::StrCat("within ", t, " days");
          break;
        }
      }
    }
    if (bucket.empty()) continue;
    ++bucket_counts[bucket];
    expiring.push_back({{"bucket", bucket},
                        {"days_left", days},
                        {"not_after", Date(not_after)},
                        {"subject_cn", leaf.subject_cn},
                        {"issuer", leaf.issuer_org.empty() ? leaf.issuer_cn : leaf.issuer_org},
                        {"sha256", leaf.sha256},
                        {"endpoints", leaf.endpoints}});
  }
  Json buckets = Json::object();
  buckets["expired"] = bucket_counts["expired"];
  for (int t : thresholds) {
    buckets[absl::StrCat("within ", t, " days")] =
        bucket_counts[absl::StrCat("within ", t, " days")];
  }
  report["expiry"] = {{"counts", buckets}, {"certificates", expiring}};

  // 2. Findings by severity (endpoints per finding).
  auto findings = RunFindingCounts(**inv, runs->latest);
  if (!findings.ok()) return ReportError(io, findings.status());
  static const char* kSeverities[] = {"critical", "high", "medium", "low", "info"};
  Json by_severity = Json::object();
  for (const char* sev : kSeverities) {
    Json ids = Json::object();
    for (const FindingCount& f : *findings) {
      if (f.severity == sev) ids[f.id] = f.endpoints;
    }
    by_severity[sev] = ids;
  }
  report["findings"] = by_severity;

  // 3. Endpoints with incomplete chains.
  auto incomplete = RunEndpointsWithFinding(**inv, runs->latest, "incomplete_chain");
  if (!incomplete.ok()) return ReportError(io, incomplete.status());
  Json incomplete_json = Json::array();
  for (const EndpointRef& e : *incomplete) incomplete_json.push_back(e.ToString());
  report["incomplete_chains"] = incomplete_json;

  // 4. Issuer organisation share among unexpired certificates.
  std::map<std::string, int> issuers;
  int unexpired = 0;
  for (const LeafSummary& leaf : *leaves) {
    if (leaf.not_after < now) continue;
    ++unexpired;
    ++issuers[leaf.issuer_org.empty() ? (leaf.issuer_cn.empty() ? "(none)" : leaf.issuer_cn)
                                      : leaf.issuer_org];
  }
  std::vector<std::pair<int, std::string>> share;
  for (const auto& [org, n] : issuers) share.push_back({n, org});
  std::sort(share.rbegin(), share.rend());
  Json issuer_json = Json::array();
  for (const auto& [n, org] : share) {
    issuer_json.push_back({{"issuer", org},
                           {"certificates", n},
                           {"percent", unexpired ? 100.0 * n / unexpired : 0.0}});
  }
  report["issuer_share"] = {{"unexpired_certificates", unexpired},
                            {"issuers", issuer_json}};

  // 5. Keys and signature algorithms.
  std::map<std::string, int> keys, sigs;
  for (const LeafSummary& leaf : *leaves) {
    std::string key = leaf.key_type.empty() ? "unknown"
                      : leaf.key_curve.empty() ? absl::StrCat(leaf.key_type, "-", leaf.key_bits)
                                               : absl::StrCat(leaf.key_type, " ", leaf.key_curve);
    ++keys[key];
    ++sigs[leaf.signature_algorithm.empty() ? "unknown" : leaf.signature_algorithm];
  }
  report["keys"] = keys;
  report["signature_algorithms"] = sigs;

  // 6. Changes since the previous run.
  Json changes = Json::object();
  if (runs->previous != 0) {
    auto fresh = NewLeaves(**inv, runs->latest);
    auto gone = GoneLeaves(**inv, runs->latest, runs->previous);
    auto changed = ChangedEndpoints(**inv, runs->latest, runs->previous);
    if (!fresh.ok()) return ReportError(io, fresh.status());
    if (!gone.ok()) return ReportError(io, gone.status());
    if (!changed.ok()) return ReportError(io, changed.status());
    Json fresh_json = Json::array(), gone_json = Json::array(), changed_json = Json::array();
    for (const CertificateRef& c : *fresh) {
      fresh_json.push_back({{"sha256", c.sha256}, {"subject_cn", c.subject_cn}});
    }
    for (const CertificateRef& c : *gone) {
      gone_json.push_back({{"sha256", c.sha256}, {"subject_cn", c.subject_cn}});
    }
    for (const ChangedEndpoint& c : *changed) {
      changed_json.push_back({{"endpoint", c.endpoint.ToString()},
                              {"was", c.was_subject_cn},
                              {"now", c.now_subject_cn}});
    }
    changes = {{"new_certificates", fresh_json},
               {"disappeared_certificates", gone_json},
               {"changed_endpoints", changed_json}};
  }
  report["changes"] = changes;

  if (json_out) {
    fprintf(io.out, "%s\n", report.dump(2).c_str());
    return kExitOk;
  }

  // Human tables. Certificate text may hold terminal controls: escaped.
  FILE* o = io.out;
  auto text = [](const nlohmann::json& v) { return Printable(v.get<std::string>()); };
  fprintf(o, "ers report: scan run %lld (%s)\n\n", static_cast<long long>(runs->latest),
          report["generated"].get<std::string>().c_str());
  fprintf(o, "Expiry (leaf certificates of the latest scan):\n");
  for (const auto& [bucket, n] : report["expiry"]["counts"].items()) {
    fprintf(o, "  %-18s %d\n", bucket.c_str(), n.get<int>());
  }
  int listed = 0;
  for (const auto& c : expiring) {
    if (listed++ >= limit) break;
    fprintf(o, "    %-8s %5lld days  %-30s %s  [%s]\n", c["not_after"].get<std::string>().c_str(),
            static_cast<long long>(c["days_left"].get<int64_t>()),
            text(c["subject_cn"]).c_str(), text(c["issuer"]).c_str(),
            text(c["endpoints"]).c_str());
  }
  fprintf(o, "\nFindings by severity (endpoints):\n");
  bool any = false;
  for (const char* sev : kSeverities) {
    for (const auto& [id, n] : report["findings"][sev].items()) {
      fprintf(o, "  %-9s %-26s %d\n", sev, id.c_str(), n.get<int>());
      any = true;
    }
  }
  if (!any) fprintf(o, "  none\n");
  fprintf(o, "\nEndpoints with incomplete chains: %zu\n", incomplete_json.size());
  for (const auto& e : incomplete_json) fprintf(o, "  %s\n", text(e).c_str());
  fprintf(o, "\nIssuer share among %d unexpired certificates:\n", unexpired);
  for (const auto& i : issuer_json) {
    fprintf(o, "  %-40s %6d  %5.1f%%\n", text(i["issuer"]).c_str(),
            i["certificates"].get<int>(), i["percent"].get<double>());
  }
  fprintf(o, "\nKeys:\n");
  for (const auto& [k, n] : keys) fprintf(o, "  %-20s %d\n", Printable(k).c_str(), n);
  fprintf(o, "\nSignature algorithms:\n");
  for (const auto& [k, n] : sigs) fprintf(o, "  %-30s %d\n", Printable(k).c_str(), n);
  fprintf(o, "\nChanges since the previous scan");
  if (runs->previous == 0) {
    fprintf(o, ": none (this is the first scan with results)\n");
  } else {
    fprintf(o, " (run %lld):\n", static_cast<long long>(runs->previous));
    for (const char* key : {"new_certificates", "disappeared_certificates"}) {
      fprintf(o, "  %s: %zu\n", key, changes[key].size());
      for (const auto& c : changes[key]) {
        fprintf(o, "    %s  %s\n", text(c["subject_cn"]).c_str(),
                c["sha256"].get<std::string>().substr(0, 16).c_str());
      }
    }
    fprintf(o, "  changed_endpoints: %zu\n", changes["changed_endpoints"].size());
    for (const auto& c : changes["changed_endpoints"]) {
      fprintf(o, "    %s: %s -> %s\n", text(c["endpoint"]).c_str(), text(c["was"]).c_str(),
              text(c["now"]).c_str());
    }
  }
  return kExitOk;
}

}  // namespace ers

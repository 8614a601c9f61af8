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
#include "cli/command_support.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "inventory/inventory.h"
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

struct Runs {
  int64_t latest = 0;
  int64_t previous = 0;
};

absl::StatusOr<Runs> FindRuns(Inventory& inv) {
  absl::StatusOr<Stmt> q = Prepare(
      inv.db(),
      "SELECT id FROM scan_runs WHERE status IN ('done', 'interrupted') "
      "AND EXISTS (SELECT 1 FROM endpoint_results e WHERE e.run_id = id) "
      "ORDER BY id DESC LIMIT 2");
  if (!q.ok()) return q.status();
  Runs runs;
  if (sqlite3_step(q->get()) == SQLITE_ROW) runs.latest = sqlite3_column_int64(q->get(), 0);
  if (sqlite3_step(q->get()) == SQLITE_ROW) runs.previous = sqlite3_column_int64(q->get(), 0);
  return runs;
}

// Query runs |sql| with |run| bound to ?1 (and |other| to ?2) and returns the
// rows as strings.
absl::StatusOr<std::vector<std::vector<std::string>>> Query(
    Inventory& inv, const char* sql, int64_t run, int64_t other = 0) {
  absl::StatusOr<Stmt> q = Prepare(inv.db(), sql);
  if (!q.ok()) return q.status();
  BindInt(q->get(), 1, run);
  if (sqlite3_bind_parameter_count(q->get()) >= 2) BindInt(q->get(), 2, other);
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(q->get())) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(q->get()); ++i) {
      row.push_back(ColumnText(q->get(), i));
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteError(inv.db(), inv.path(), "report query");
  return rows;
}

int64_t ToInt(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

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
  flags.String("db", "PATH", "inventory database (default: see ers --help)", &db);
  absl::Status parsed = flags.Parse(args, nullptr);
  if (!parsed.ok()) return ReportError(io, parsed);
  if (flags.help_requested()) {
    fprintf(io.out, "%s%s", kReportHelp, flags.Usage().c_str());
    return kExitOk;
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
  absl::StatusOr<Runs> runs = FindRuns(**inv);
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
  auto leaves = Query(**inv,
      "SELECT c.sha256, coalesce(c.subject_cn, ''), coalesce(c.issuer_org, ''), "
      "coalesce(c.issuer_cn, ''), coalesce(c.not_after, 0), "
      "coalesce(c.key_type, ''), coalesce(c.key_bits, 0), "
      "coalesce(c.key_curve, ''), coalesce(c.signature_algorithm, ''), "
      "group_concat(e.ip || ':' || e.port || "
      "  CASE WHEN e.name != '' THEN ' (' || e.name || ')' ELSE '' END, ', ') "
      "FROM endpoint_results e JOIN certificates c ON c.sha256 = e.leaf_sha256 "
      "WHERE e.run_id = ?1 GROUP BY c.sha256 ORDER BY c.not_after",
      runs->latest);
  if (!leaves.ok()) return ReportError(io, leaves.status());

  // 1. Expiry per threshold (the smallest threshold met), and expired.
  std::vector<int> thresholds = policy.expiry_thresholds_days;
  std::sort(thresholds.begin(), thresholds.end());
  Json expiring = Json::array();
  std::map<std::string, int> bucket_counts;
  for (const auto& row : *leaves) {
    const int64_t not_after = ToInt(row[4]);
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
                        {"subject_cn", row[1]},
                        {"issuer", row[2].empty() ? row[3] : row[2]},
                        {"sha256", row[0]},
                        {"endpoints", row[9]}});
  }
  Json buckets = Json::object();
  buckets["expired"] = bucket_counts["expired"];
  for (int t : thresholds) {
    buckets[absl::StrCat("within ", t, " days")] =
        bucket_counts[absl::StrCat("within ", t, " days")];
  }
  report["expiry"] = {{"counts", buckets}, {"certificates", expiring}};

  // 2. Findings by severity (endpoints per finding).
  auto findings = Query(**inv,
      "SELECT json_extract(f.value, '$.severity'), json_extract(f.value, '$.id'), "
      "count(*) FROM endpoint_results e, json_each(e.findings) f "
      "WHERE e.run_id = ?1 GROUP BY 1, 2",
      runs->latest);
  if (!findings.ok()) return ReportError(io, findings.status());
  static const char* kSeverities[] = {"critical", "high", "medium", "low", "info"};
  Json by_severity = Json::object();
  for (const char* sev : kSeverities) {
    Json ids = Json::object();
    for (const auto& row : *findings) {
      if (row[0] == sev) ids[row[1]] = ToInt(row[2]);
    }
    by_severity[sev] = ids;
  }
  report["findings"] = by_severity;

  // 3. Endpoints with incomplete chains.
  auto incomplete = Query(**inv,
      "SELECT e.ip, e.port, e.name FROM endpoint_results e, json_each(e.findings) f "
      "WHERE e.run_id = ?1 AND json_extract(f.value, '$.id') = 'incomplete_chain' "
      "ORDER BY e.ip, e.port",
      runs->latest);
  if (!incomplete.ok()) return ReportError(io, incomplete.status());
  Json incomplete_json = Json::array();
  for (const auto& row : *incomplete) {
    incomplete_json.push_back(absl::StrCat(row[0], ":", row[1],
                                           row[2].empty() ? "" : " (" + row[2] + ")"));
  }
  report["incomplete_chains"] = incomplete_json;

  // 4. Issuer organisation share among unexpired certificates.
  std::map<std::string, int> issuers;
  int unexpired = 0;
  for (const auto& row : *leaves) {
    if (ToInt(row[4]) < now) continue;
    ++unexpired;
    ++issuers[row[2].empty() ? (row[3].empty() ? "(none)" : row[3]) : row[2]];
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
  for (const auto& row : *leaves) {
    std::string key = row[5].empty() ? "unknown"
                      : row[7].empty() ? absl::StrCat(row[5], "-", row[6])
                                       : absl::StrCat(row[5], " ", row[7]);
    ++keys[key];
    ++sigs[row[8].empty() ? "unknown" : row[8]];
  }
  report["keys"] = keys;
  report["signature_algorithms"] = sigs;

  // 6. Changes since the previous run.
  Json changes = Json::object();
  if (runs->previous != 0) {
    auto fresh = Query(**inv,
        "SELECT DISTINCT e.leaf_sha256, coalesce(c.subject_cn, '') FROM endpoint_results e "
        "JOIN certificates c ON c.sha256 = e.leaf_sha256 WHERE e.run_id = ?1 "
        "AND e.leaf_sha256 NOT IN (SELECT leaf_sha256 FROM endpoint_results "
        "WHERE run_id < ?1)",
        runs->latest);
    auto gone = Query(**inv,
        "SELECT DISTINCT e.leaf_sha256, coalesce(c.subject_cn, '') FROM endpoint_results e "
        "JOIN certificates c ON c.sha256 = e.leaf_sha256 WHERE e.run_id = ?2 "
        "AND e.leaf_sha256 NOT IN (SELECT leaf_sha256 FROM endpoint_results "
        "WHERE run_id = ?1)",
        runs->latest, runs->previous);
    auto changed = Query(**inv,
        "SELECT a.ip, a.port, a.name, coalesce(cb.subject_cn, ''), "
        "coalesce(ca.subject_cn, '') FROM endpoint_results a "
        "JOIN endpoint_results b ON a.ip = b.ip AND a.port = b.port AND a.name = b.name "
        "LEFT JOIN certificates ca ON ca.sha256 = a.leaf_sha256 "
        "LEFT JOIN certificates cb ON cb.sha256 = b.leaf_sha256 "
        "WHERE a.run_id = ?1 AND b.run_id = ?2 AND a.leaf_sha256 != b.leaf_sha256",
        runs->latest, runs->previous);
    for (auto* r : {&fresh, &gone, &changed}) {
      if (!r->ok()) return ReportError(io, r->status());
    }
    Json fresh_json = Json::array(), gone_json = Json::array(), changed_json = Json::array();
    for (const auto& row : *fresh) fresh_json.push_back({{"sha256", row[0]}, {"subject_cn", row[1]}});
    for (const auto& row : *gone) gone_json.push_back({{"sha256", row[0]}, {"subject_cn", row[1]}});
    for (const auto& row : *changed) {
      changed_json.push_back({{"endpoint", absl::StrCat(row[0], ":", row[1],
                                                        row[2].empty() ? "" : " (" + row[2] + ")")},
                              {"was", row[3]},
                              {"now", row[4]}});
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

  // Human tables.
  FILE* o = io.out;
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
            c["subject_cn"].get<std::string>().c_str(),
            c["issuer"].get<std::string>().c_str(),
            c["endpoints"].get<std::string>().c_str());
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
  for (const auto& e : incomplete_json) fprintf(o, "  %s\n", e.get<std::string>().c_str());
  fprintf(o, "\nIssuer share among %d unexpired certificates:\n", unexpired);
  for (const auto& i : issuer_json) {
    fprintf(o, "  %-40s %6d  %5.1f%%\n", i["issuer"].get<std::string>().c_str(),
            i["certificates"].get<int>(), i["percent"].get<double>());
  }
  fprintf(o, "\nKeys:\n");
  for (const auto& [k, n] : keys) fprintf(o, "  %-20s %d\n", k.c_str(), n);
  fprintf(o, "\nSignature algorithms:\n");
  for (const auto& [k, n] : sigs) fprintf(o, "  %-30s %d\n", k.c_str(), n);
  fprintf(o, "\nChanges since the previous scan");
  if (runs->previous == 0) {
    fprintf(o, ": none (this is the first scan with results)\n");
  } else {
    fprintf(o, " (run %lld):\n", static_cast<long long>(runs->previous));
    for (const char* key : {"new_certificates", "disappeared_certificates"}) {
      fprintf(o, "  %s: %zu\n", key, changes[key].size());
      for (const auto& c : changes[key]) {
        fprintf(o, "    %s  %s\n", c["subject_cn"].get<std::string>().c_str(),
                c["sha256"].get<std::string>().substr(0, 16).c_str());
      }
    }
    fprintf(o, "  changed_endpoints: %zu\n", changes["changed_endpoints"].size());
    for (const auto& c : changes["changed_endpoints"]) {
      fprintf(o, "    %s: %s -> %s\n", c["endpoint"].get<std::string>().c_str(),
              c["was"].get<std::string>().c_str(), c["now"].get<std::string>().c_str());
    }
  }
  return kExitOk;
}

}  // namespace ers

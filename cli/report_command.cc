// report_command.cc: `ers report`, what the inventory says about the latest
// scan: expiring certificates per threshold, findings by severity,
// incomplete chains, issuer-organisation share among unexpired
// certificates, key and signature statistics, and what changed since the
// scan before. Human tables, or JSON with --json.
#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/printable.h"
#include "cli/color.h"
#include "cli/command_support.h"
#include "base/private_files.h"
#include "cli/report_html.h"
#include "cli/report_metrics.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "inventory/inventory.h"
#include "inventory/queries.h"
#include "x509/findings.h"

namespace ers {
namespace {

constexpr const char* kReportHelp = R"(Usage: ers report [flags]

Reports on the newest configured sweep (ers scan without targets on the
command line), whatever it found, or on the run given with --run: when it
ran and how it ended, certificates expiring within each threshold,
findings by severity, endpoints with incomplete chains, the share of each
issuing organisation among unexpired certificates, key and signature
statistics, and what changed since the sweep before it (or since the run
given with --since). Ad-hoc scans and imports are reported only when
named with --run. ers runs lists the runs.

Examples:
  ers report
  ers report --json > report.json
  ers report --run 12 --since 9
  ers report --fail-on high           exit 4 when a high or critical finding is present
  ers report --prometheus /var/lib/node_exporter/textfile/ers.prom > /dev/null
  ers report --html report.html > /dev/null
  ers report --policy /etc/ers/policy.conf

Flags:
)";

using Json = nlohmann::ordered_json;

// The version of ers report --json (docs/report-schema.md).
constexpr int kReportSchemaVersion = 2;

// EndpointJson is an endpoint as the report's JSON gives it.
Json EndpointJson(const EndpointRef& e) {
  return {{"ip", e.ip}, {"port", e.port}, {"name", e.name}, {"text", e.ToString()}};
}

Json EndpointsJson(const std::vector<EndpointRef>& endpoints) {
  Json out = Json::array();
  for (const EndpointRef& e : endpoints) out.push_back(EndpointJson(e));
  return out;
}

// CertificateJson is a certificate as people recognise it.
Json CertificateJson(const CertificateRef& c, int64_t now) {
  return {{"sha256", c.sha256},
          {"subject_cn", c.subject_cn},
          {"issuer", c.issuer},
          {"not_after", c.not_after != 0 ? Json(Rfc3339(c.not_after)) : Json(nullptr)},
          {"days_left", c.not_after != 0 ? Json(DaysLeft(c.not_after, now)) : Json(nullptr)}};
}

const char* KindText(const std::string& kind) {
  if (kind == "adhoc") return "ad-hoc scan";
  if (kind == "import") return "import";
  return "configured sweep";
}

// RunHeadline is one line saying which run, when, and how it ended.
std::string RunHeadline(const RunInfo& r) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  std::string out = absl::StrCat(
      "run ", r.id, " (", KindText(r.kind), "), ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(r.started_unix), utc));
  if (r.finished_unix != 0) {
    absl::StrAppend(&out, " to ",
                    absl::FormatTime("%H:%M:%S", absl::FromUnixSeconds(r.finished_unix), utc));
  }
  absl::StrAppend(&out, " UTC, ", r.status);
  return out;
}

}  // namespace

int RunReport(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db, policy_file, top, prometheus, html;
  std::optional<uint64_t> run_flag, since_flag;
  FailOn fail_on;
  Colors colors;
  bool json_out = false;
  FlagSet flags("report");
  flags.Bool("json", "print the report as JSON", &json_out);
  flags.String("policy", "FILE", "expiry thresholds (see docs/findings.md)",
               &policy_file);
  flags.String("top", "N", "list at most N certificates per section (default 20)",
               &top);
  flags.Count("run", "describe run N (default: the newest configured sweep)", 1,
              INT64_MAX, &run_flag);
  flags.Count("since", "compare with run N (default: the configured sweep before)", 1,
              INT64_MAX, &since_flag);
  flags.String("html", "FILE", "also write the report as one self-contained page (charts, "
               "a sortable, filterable table of the endpoints)", &html);
  flags.String("prometheus", "FILE", "also write the run's metrics for node_exporter's "
               "textfile collector (atomically, mode 0644)", &prometheus);
  fail_on.Declare(flags);
  colors.Declare(flags);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kReportHelp, io)) {
    return *done;
  }
  absl::StatusOr<std::optional<Severity>> fail_severity = fail_on.Parsed();
  if (!fail_severity.ok()) return ReportError(io, fail_severity.status());
  if (absl::Status s = colors.Decide(io.out); !s.ok()) return ReportError(io, s);

  int limit = 20;
  if (top.has_value() && (!absl::SimpleAtoi(*top, &limit) || limit < 0)) {
    return ReportError(io, absl::InvalidArgumentError("--top must be a number"));
  }
  absl::StatusOr<std::unique_ptr<Inventory>> inv = OpenExistingInventory(db);
  if (!inv.ok()) return ReportError(io, inv.status());
  // The policy: --policy, else the one ers discover stored.
  absl::StatusOr<std::string> policy_path = SettingOr((*inv)->config(), policy_file, kPolicySetting);
  if (!policy_path.ok()) return ReportError(io, policy_path.status());
  absl::StatusOr<Policy> loaded_policy = LoadPolicy(*policy_path);
  if (!loaded_policy.ok()) return ReportError(io, loaded_policy.status());
  const Policy& policy = *loaded_policy;
  absl::StatusOr<ReportRuns> runs = FindReportRuns(
      **inv, static_cast<int64_t>(run_flag.value_or(0)),
      static_cast<int64_t>(since_flag.value_or(0)));
  if (!runs.ok()) return ReportError(io, runs.status());
  if (runs->latest == 0) {
    return ReportError(io, absl::FailedPreconditionError(
                               "no configured sweep has finished in this inventory yet: "
                               "run ers scan (ers runs lists ad-hoc scans and imports; "
                               "ers report --run N describes one)"));
  }
  // A run named on the command line that does not exist is a usage error.
  auto read_run = [&](int64_t id) -> absl::StatusOr<RunInfo> {
    absl::StatusOr<RunInfo> r = (*inv)->Run(id);
    if (absl::IsNotFound(r.status())) return absl::InvalidArgumentError(r.status().message());
    return r;
  };
  absl::StatusOr<RunInfo> run_info = read_run(runs->latest);
  if (!run_info.ok()) return ReportError(io, run_info.status());
  // A run that failed before it scanned anything has nothing to compare:
  // its empty result is no news about the certificates.
  if (run_info->status == "failed" && run_info->results == 0 && !since_flag.has_value()) {
    runs->previous = 0;
  }
  std::optional<RunInfo> previous_info;
  if (runs->previous != 0) {
    absl::StatusOr<RunInfo> p = read_run(runs->previous);
    if (!p.ok()) return ReportError(io, p.status());
    previous_info = *p;
  }
  // After the report is printed: exit 4 when --fail-on finds what it names.
  auto finish = [&]() -> int {
    if (!fail_severity->has_value()) return kExitOk;
    absl::StatusOr<bool> hit = FindingsAtOrAbove(**inv, runs->latest, **fail_severity, io);
    if (!hit.ok()) return ReportError(io, hit.status());
    return *hit ? kExitFindings : kExitOk;
  };
  if (prometheus.has_value()) {
    absl::StatusOr<std::string> metrics = PrometheusText(**inv, *run_info);
    if (!metrics.ok()) return ReportError(io, metrics.status());
    if (absl::Status s = WriteFileAtomically(*prometheus, *metrics, 0644); !s.ok()) {
      return ReportError(io, s);
    }
  }
  const int64_t now = time(nullptr);
  Json report;
  report["schema_version"] = kReportSchemaVersion;
  report["generated"] = Rfc3339(now);
  report["run"] = RunJson(*run_info);
  report["previous_run"] = previous_info.has_value() ? RunJson(*previous_info) : Json(nullptr);

  // Leaves of the run, with their endpoints.
  auto leaves = RunLeaves(**inv, runs->latest);
  if (!leaves.ok()) return ReportError(io, leaves.status());

  // 1. Expiry per threshold (the smallest threshold met), and expired.
  std::vector<int> thresholds = policy.expiry_thresholds_days;
  std::sort(thresholds.begin(), thresholds.end());
  Json expiring = Json::array();
  std::map<std::string, int> bucket_counts;
  for (const LeafSummary& leaf : *leaves) {
    const int64_t days = DaysLeft(leaf.not_after, now);
    std::string bucket;
    if (leaf.not_after < now) {
      bucket = "expired";
    } else {
      for (int t : thresholds) {
        if (days < t) {
          bucket = absl::StrCat("within_", t, "_days");
          break;
        }
      }
    }
    if (bucket.empty()) continue;
    ++bucket_counts[bucket];
    Json c = CertificateJson({leaf.sha256, leaf.subject_cn,
                              leaf.issuer_org.empty() ? leaf.issuer_cn : leaf.issuer_org,
                              leaf.not_after},
                             now);
    c["bucket"] = bucket;
    c["endpoints"] = EndpointsJson(leaf.endpoints);
    expiring.push_back(std::move(c));
  }
  Json buckets = Json::array();
  buckets.push_back({{"bucket", "expired"}, {"certificates", bucket_counts["expired"]}});
  for (int t : thresholds) {
    const std::string b = absl::StrCat("within_", t, "_days");
    buckets.push_back({{"bucket", b}, {"days", t}, {"certificates", bucket_counts[b]}});
  }
  report["expiry"] = {{"buckets", buckets}, {"certificates", expiring}};

  // 2. Findings by severity, each with its endpoints.
  auto endpoint_findings = RunEndpointFindings(**inv, runs->latest);
  if (!endpoint_findings.ok()) return ReportError(io, endpoint_findings.status());
  struct FindingGroup {
    std::string severity;
    std::vector<EndpointRef> endpoints;
  };
  std::map<std::string, FindingGroup> by_id;
  for (const EndpointFinding& f : *endpoint_findings) {
    FindingGroup& g = by_id[f.id];
    g.severity = f.severity;
    g.endpoints.push_back(f.endpoint);
  }
  static const char* kSeverities[] = {"critical", "high", "medium", "low", "info"};
  Json findings = Json::array();
  for (const char* sev : kSeverities) {
    for (const auto& [id, g] : by_id) {
      if (g.severity != sev) continue;
      findings.push_back({{"id", id},
                          {"severity", g.severity},
                          {"endpoint_count", g.endpoints.size()},
                          {"endpoints", EndpointsJson(g.endpoints)}});
    }
  }
  report["findings"] = findings;

  // 3. Endpoints with incomplete chains.
  Json incomplete_json = Json::array();
  if (by_id.count("incomplete_chain")) {
    incomplete_json = EndpointsJson(by_id["incomplete_chain"].endpoints);
  }
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
  auto counts_json = [](const std::map<std::string, int>& m, const char* name) {
    Json out = Json::array();
    for (const auto& [k, n] : m) out.push_back({{name, k}, {"certificates", n}});
    return out;
  };
  report["keys"] = counts_json(keys, "key");
  report["signature_algorithms"] = counts_json(sigs, "algorithm");

  // 6. Changes since the compared run: certificates, endpoints, findings.
  Json changes = nullptr;
  if (runs->previous != 0) {
    auto fresh = NewLeaves(**inv, runs->latest);
    auto gone = GoneLeaves(**inv, runs->latest, runs->previous);
    auto changed = ChangedEndpoints(**inv, runs->latest, runs->previous);
    auto before = RunEndpointFindings(**inv, runs->previous);
    if (!fresh.ok()) return ReportError(io, fresh.status());
    if (!gone.ok()) return ReportError(io, gone.status());
    if (!changed.ok()) return ReportError(io, changed.status());
    if (!before.ok()) return ReportError(io, before.status());
    Json fresh_json = Json::array(), gone_json = Json::array(), changed_json = Json::array();
    for (const CertificateRef& c : *fresh) fresh_json.push_back(CertificateJson(c, now));
    for (const CertificateRef& c : *gone) gone_json.push_back(CertificateJson(c, now));
    for (const ChangedEndpoint& c : *changed) {
      changed_json.push_back({{"endpoint", EndpointJson(c.endpoint)},
                              {"was", CertificateJson(c.was, now)},
                              {"now", CertificateJson(c.now, now)}});
    }
    // Findings that appeared or cleared, per endpoint seen in both runs or
    // either one.
    auto key = [](const EndpointFinding& f) {
      return std::make_tuple(f.endpoint.ip, f.endpoint.port, f.endpoint.name, f.id);
    };
    std::map<std::tuple<std::string, int, std::string, std::string>, const EndpointFinding*>
        was, is;
    for (const EndpointFinding& f : *before) was[key(f)] = &f;
    for (const EndpointFinding& f : *endpoint_findings) is[key(f)] = &f;
    Json appeared = Json::array(), cleared = Json::array();
    for (const auto& [k, f] : is) {
      if (!was.count(k)) {
        appeared.push_back(
            {{"endpoint", EndpointJson(f->endpoint)}, {"id", f->id}, {"severity", f->severity}});
      }
    }
    for (const auto& [k, f] : was) {
      if (!is.count(k)) {
        cleared.push_back(
            {{"endpoint", EndpointJson(f->endpoint)}, {"id", f->id}, {"severity", f->severity}});
      }
    }
    changes = {{"new_certificates", fresh_json},
               {"disappeared_certificates", gone_json},
               {"changed_endpoints", changed_json},
               {"findings_appeared", appeared},
               {"findings_cleared", cleared}};
  }
  report["changes"] = changes;

  if (html.has_value()) {
    std::vector<EndpointRow> rows;
    absl::Status listed =
        ForEachEndpoint(**inv, runs->latest, [&](const EndpointRow& e) { rows.push_back(e); });
    if (!listed.ok()) return ReportError(io, listed);
    if (absl::Status s = WriteFileAtomically(*html, ReportHtml(report, *leaves, rows, now), 0644);
        !s.ok()) {
      return ReportError(io, s);
    }
  }
  if (json_out) {
    fprintf(io.out, "%s\n", report.dump(2).c_str());
    return finish();
  }

  // Human tables. Certificate text may hold terminal controls: escaped.
  FILE* o = io.out;
  auto text = [](const Json& v) { return Printable(v.is_string() ? v.get<std::string>() : ""); };
  // endpoint_list prints at most |limit| endpoints, then "... and N more".
  auto endpoint_list = [&](const Json& endpoints, const char* indent) {
    size_t shown = 0;
    for (const auto& e : endpoints) {
      if (shown == static_cast<size_t>(limit)) {
        fprintf(o, "%s... and %zu more\n", indent, endpoints.size() - shown);
        break;
      }
      fprintf(o, "%s%s\n", indent, text(e["text"]).c_str());
      ++shown;
    }
  };
  fprintf(o, "ers report: %s\n", RunHeadline(*run_info).c_str());
  {
    std::string outcomes;
    for (const auto& [name, n] : run_info->outcomes) {
      absl::StrAppend(&outcomes, outcomes.empty() ? "" : ", ", name, " ", n);
    }
    fprintf(o, "  %llu targets%s%s\n", static_cast<unsigned long long>(run_info->targets),
            outcomes.empty() ? "" : ": ", outcomes.c_str());
  }
  if (run_info->status == "failed") {
    fprintf(o, "  this run failed%s%s\n", run_info->error.empty() ? "" : ": ",
            Printable(run_info->error).c_str());
  } else if (run_info->status != "done") {
    fprintf(o, "  this run did not finish (%s): its results cover only part of its targets\n",
            run_info->status.c_str());
  }
  if (run_info->tls == 0) {
    fprintf(o, "  this run found no TLS endpoint%s\n",
            previous_info.has_value() && previous_info->tls > 0
                ? ": every certificate the run before saw is listed as disappeared below"
                : "");
  }
  fprintf(o, "  report generated %s\n\n", report["generated"].get<std::string>().c_str());

  fprintf(o, "Expiry (leaf certificates of this run):\n");
  for (const auto& b : buckets) {
    std::string label = b["bucket"] == "expired" ? "expired"
                        : absl::StrCat("within ", b["days"].get<int>(), " days");
    const int n = b["certificates"].get<int>();
    fprintf(o, "  %s %d\n",
            colors.Severity(n > 0 && label == "expired" ? "critical" : "",
                            absl::StrFormat("%-18s", label))
                .c_str(),
            n);
  }
  int listed = 0;
  for (const auto& c : expiring) {
    if (listed++ >= limit) {
      fprintf(o, "    ... and %zu more\n", expiring.size() - limit);
      break;
    }
    fprintf(o, "    %s %5lld days  %-30s %s  %s\n", c["not_after"].get<std::string>().substr(0, 10).c_str(),
            static_cast<long long>(c["days_left"].get<int64_t>()), text(c["subject_cn"]).c_str(),
            text(c["issuer"]).c_str(), c["sha256"].get<std::string>().substr(0, 16).c_str());
    endpoint_list(c["endpoints"], "        ");
  }
  fprintf(o, "\nFindings by severity (endpoints):\n");
  if (findings.empty()) fprintf(o, "  none\n");
  for (const auto& f : findings) {
    const std::string severity = f["severity"].get<std::string>();
    fprintf(o, "  %s %-26s %zu\n",
            colors.Severity(severity, absl::StrFormat("%-9s", severity)).c_str(),
            text(f["id"]).c_str(), f["endpoint_count"].get<size_t>());
    endpoint_list(f["endpoints"], "      ");
  }
  fprintf(o, "\nEndpoints with incomplete chains: %zu\n", incomplete_json.size());
  endpoint_list(incomplete_json, "  ");
  fprintf(o, "\nIssuer share among %d unexpired certificates:\n", unexpired);
  for (const auto& i : issuer_json) {
    fprintf(o, "  %-40s %6d  %5.1f%%\n", text(i["issuer"]).c_str(),
            i["certificates"].get<int>(), i["percent"].get<double>());
  }
  fprintf(o, "\nKeys:\n");
  for (const auto& [k, n] : keys) fprintf(o, "  %-20s %d\n", Printable(k).c_str(), n);
  fprintf(o, "\nSignature algorithms:\n");
  for (const auto& [k, n] : sigs) fprintf(o, "  %-30s %d\n", Printable(k).c_str(), n);
  fprintf(o, "\nChanges");
  if (!previous_info.has_value()) {
    fprintf(o, ": nothing to compare with (no earlier finished configured sweep; "
               "--since N names a run)\n");
    return finish();
  }
  fprintf(o, " since %s:\n", RunHeadline(*previous_info).c_str());
  auto cert_line = [&](const Json& c) {
    return absl::StrCat(text(c["subject_cn"]), "  issuer ", text(c["issuer"]), "  expires ",
                        c["not_after"].is_string() ? c["not_after"].get<std::string>() : "?",
                        "  sha256 ", c["sha256"].get<std::string>().substr(0, 16));
  };
  for (const char* k : {"new_certificates", "disappeared_certificates"}) {
    fprintf(o, "  %s: %zu\n", k, changes[k].size());
    int n = 0;
    for (const auto& c : changes[k]) {
      if (n++ >= limit) {
        fprintf(o, "    ... and %zu more\n", changes[k].size() - limit);
        break;
      }
      fprintf(o, "    %s\n", cert_line(c).c_str());
    }
  }
  fprintf(o, "  changed_endpoints: %zu\n", changes["changed_endpoints"].size());
  for (const auto& c : changes["changed_endpoints"]) {
    fprintf(o, "    %s\n      was %s\n      now %s\n", text(c["endpoint"]["text"]).c_str(),
            cert_line(c["was"]).c_str(), cert_line(c["now"]).c_str());
  }
  for (const char* k : {"findings_appeared", "findings_cleared"}) {
    fprintf(o, "  %s: %zu\n", k, changes[k].size());
    int n = 0;
    for (const auto& f : changes[k]) {
      if (n++ >= limit) {
        fprintf(o, "    ... and %zu more\n", changes[k].size() - limit);
        break;
      }
      fprintf(o, "    %-9s %-26s %s\n", f["severity"].get<std::string>().c_str(),
              text(f["id"]).c_str(), text(f["endpoint"]["text"]).c_str());
    }
  }
  return finish();
}

}  // namespace ers

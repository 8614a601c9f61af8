#include "cli/report_metrics.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "inventory/queries.h"

namespace ers {
namespace {

void Family(std::string* out, const char* name, const char* type, const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

absl::StatusOr<std::string> PrometheusText(Inventory& inventory, const RunInfo& run) {
  std::string out;
  Family(&out, "ers_certificate_not_after_seconds", "gauge",
         "Expiry (notAfter, Unix seconds) of the leaf certificate an endpoint served in the "
         "reported run; the leaf only, never a root or an alternate chain.");
  std::string endpoints_trusted;
  absl::Status s = ForEachEndpoint(inventory, run.id, [&](const EndpointRow& e) {
    if (e.not_after == 0) return;  // a leaf that did not parse has no expiry
    absl::StrAppend(&out, "ers_certificate_not_after_seconds{address=\"",
                    EscapeLabel(e.endpoint.ip), "\",port=\"", e.endpoint.port, "\",name=\"",
                    EscapeLabel(e.endpoint.name), "\",sni=\"", EscapeLabel(e.sni),
                    "\",subject=\"", EscapeLabel(e.subject), "\",issuer=\"",
                    EscapeLabel(e.issuer), "\",serial=\"", EscapeLabel(e.serial),
                    "\",sha256=\"", e.leaf_sha256, "\"} ", e.not_after, "\n");
    absl::StrAppend(&endpoints_trusted, "ers_endpoint_trusted{address=\"",
                    EscapeLabel(e.endpoint.ip), "\",port=\"", e.endpoint.port, "\",name=\"",
                    EscapeLabel(e.endpoint.name), "\"} ", e.trusted ? 1 : 0, "\n");
  });
  if (!s.ok()) return s;
  Family(&out, "ers_endpoint_trusted", "gauge",
         "1 when the endpoint's chain validated against the trust store, else 0.");
  out += endpoints_trusted;
  absl::StatusOr<std::vector<FindingCount>> findings = RunFindingCounts(inventory, run.id);
  if (!findings.ok()) return findings.status();
  Family(&out, "ers_findings", "gauge", "Endpoints with a finding in the reported run.");
  for (const FindingCount& f : *findings) {
    absl::StrAppend(&out, "ers_findings{id=\"", EscapeLabel(f.id), "\",severity=\"",
                    EscapeLabel(f.severity), "\"} ", f.endpoints, "\n");
  }
  Family(&out, "ers_scan_results", "gauge", "Results of the reported run by outcome.");
  for (const auto& [outcome, n] : run.outcomes) {
    absl::StrAppend(&out, "ers_scan_results{outcome=\"", EscapeLabel(outcome), "\"} ", n, "\n");
  }
  Family(&out, "ers_scan_targets", "gauge", "Targets of the reported run.");
  absl::StrAppend(&out, "ers_scan_targets ", run.targets, "\n");
  Family(&out, "ers_scan_duration_seconds", "gauge", "How long the reported run took.");
  absl::StrAppend(&out, "ers_scan_duration_seconds ", absl::StrFormat("%.3f", run.duration_s),
                  "\n");
  Family(&out, "ers_scan_start_timestamp_seconds", "gauge",
         "When the reported run started (Unix seconds).");
  absl::StrAppend(&out, "ers_scan_start_timestamp_seconds ", run.started_unix, "\n");
  Family(&out, "ers_scan_run_info", "gauge",
         "The reported run: its id, kind and status as labels (always 1).");
  absl::StrAppend(&out, "ers_scan_run_info{run=\"", run.id, "\",kind=\"", EscapeLabel(run.kind),
                  "\",status=\"", EscapeLabel(run.status), "\"} 1\n");
  Family(&out, "ers_scan_success", "gauge", "1 when the reported run finished (done), else 0.");
  absl::StrAppend(&out, "ers_scan_success ", run.status == "done" ? 1 : 0, "\n");
  return out;
}

}  // namespace ers

// queries.h: what the inventory answers, typed: the runs a report compares,
// the leaves and findings of a run, what changed between runs, and the rows
// of the exports and upload batches. The SQL lives here, never in cli/ or
// upload/.
#ifndef ERS_INVENTORY_QUERIES_H_
#define ERS_INVENTORY_QUERIES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inventory/inventory.h"

namespace ers {

// EndpointRef names an endpoint: "ip:port" or "ip:port (name)".
struct EndpointRef {
  std::string ip;
  int port = 0;
  std::string name;
  std::string ToString() const;
};

// ReportRuns are the run a report describes and the run it compares with
// (0 when there is none).
struct ReportRuns {
  int64_t latest = 0;
  int64_t previous = 0;
};
// FindReportRuns picks them. The described run is |run| when not 0, else
// the newest configured sweep that is not running, whatever it found (a
// sweep that found nothing is the truth about the network, not a run to
// skip). The compared run is |since| when not 0, else, for a configured
// sweep, the configured sweep before it that finished (done or
// interrupted); ad-hoc runs and imports are compared only when asked.
// Ad-hoc runs and imports never become the latest.
[[nodiscard]] absl::StatusOr<ReportRuns> FindReportRuns(Inventory& inv, int64_t run = 0,
                                                        int64_t since = 0);

// LatestConfiguredRun is the newest configured sweep that is not running,
// 0 for none.
[[nodiscard]] absl::StatusOr<int64_t> LatestConfiguredRun(Inventory& inv);

// LeafSummary is one leaf certificate of a run, with where it was served.
struct LeafSummary {
  std::string sha256;
  std::string subject_cn;
  std::string issuer_org;
  std::string issuer_cn;
  int64_t not_after = 0;
  std::string key_type;
  int key_bits = 0;
  std::string key_curve;
  std::string signature_algorithm;
  std::vector<EndpointRef> endpoints;  // where it was served, by address
};
// RunLeaves returns the leaves of |run|, soonest expiry first.
[[nodiscard]] absl::StatusOr<std::vector<LeafSummary>> RunLeaves(Inventory& inv, int64_t run);

// FindingCount is how many endpoints of a run have one finding.
struct FindingCount {
  std::string severity;
  std::string id;
  int64_t endpoints = 0;
};
[[nodiscard]] absl::StatusOr<std::vector<FindingCount>> RunFindingCounts(Inventory& inv,
                                                                         int64_t run);
// RunEndpointsWithFinding lists the endpoints of |run| with finding |id|.
[[nodiscard]] absl::StatusOr<std::vector<EndpointRef>> RunEndpointsWithFinding(
    Inventory& inv, int64_t run, absl::string_view id);

// CertificateRef is a certificate by SHA-256, with what people recognise
// it by: subject CN, issuer (organisation, else CN) and expiry.
struct CertificateRef {
  std::string sha256;
  std::string subject_cn;
  std::string issuer;
  int64_t not_after = 0;
};
// NewLeaves: leaves of |run| never served before it. GoneLeaves: leaves
// of |previous| that |run| no longer saw.
[[nodiscard]] absl::StatusOr<std::vector<CertificateRef>> NewLeaves(Inventory& inv, int64_t run);
[[nodiscard]] absl::StatusOr<std::vector<CertificateRef>> GoneLeaves(Inventory& inv, int64_t run,
                                                                     int64_t previous);
// ChangedEndpoint is an endpoint that serves another leaf than before.
struct ChangedEndpoint {
  EndpointRef endpoint;
  CertificateRef was;
  CertificateRef now;
};
[[nodiscard]] absl::StatusOr<std::vector<ChangedEndpoint>> ChangedEndpoints(
    Inventory& inv, int64_t run, int64_t previous);

// EndpointFinding is one finding of one endpoint in a run.
struct EndpointFinding {
  EndpointRef endpoint;
  std::string id;
  std::string severity;
};
// RunEndpointFindings lists every (endpoint, finding) of |run|, by address.
[[nodiscard]] absl::StatusOr<std::vector<EndpointFinding>> RunEndpointFindings(Inventory& inv,
                                                                              int64_t run);

// StoredCertificate is a certificate's DER with its subject.
struct StoredCertificate {
  std::string sha256;
  std::string der;
  std::string subject;
};
// ForEachCertificate calls |fn| for every certificate served in |run|
// (soonest expiry first), or for all certificates ever seen when |run| is 0
// (first seen first).
[[nodiscard]] absl::Status ForEachCertificate(
    Inventory& inv, int64_t run, const std::function<void(const StoredCertificate&)>& fn);
// CertificateDer returns the DER of the certificate |sha256| ("" if none).
[[nodiscard]] absl::StatusOr<std::string> CertificateDer(Inventory& inv,
                                                         const std::string& sha256);

// EndpointRow is one TLS endpoint of a run, with its leaf, for exports and
// upload batches.
struct EndpointRow {
  EndpointRef endpoint;
  std::string sni;
  std::string tls_version;
  std::string starttls;  // the STARTTLS protocol ("smtp", ...), "" for implicit TLS
  std::string cipher;
  std::string leaf_sha256;
  std::vector<std::string> chain_sha256;  // as served
  std::string subject_cn;
  std::string issuer_cn;
  std::string issuer_org;
  int64_t not_after = 0;
  bool trusted = false;
  std::string findings_json;  // the findings as stored (a JSON array)
  std::vector<std::string> finding_ids;
  int64_t first_seen = 0;  // of this leaf at this endpoint
  int64_t last_seen = 0;
  std::string subject;  // the leaf's, RFC 2253
  std::string issuer;
  std::string serial;   // hex
};
// ForEachEndpoint calls |fn| for every TLS endpoint of |run|, by address.
[[nodiscard]] absl::Status ForEachEndpoint(Inventory& inv, int64_t run,
                                           const std::function<void(const EndpointRow&)>& fn);

}  // namespace ers

#endif  // ERS_INVENTORY_QUERIES_H_

// cert_requests.h: the certificates this client asked the CLM for (ers
// request, ers renew), typed. A request is saved before it is sent, so a
// client killed mid-request resubmits the same request id; its files are
// named by one base path (BASE.key, BASE.csr, BASE.crt, ...).
#ifndef ERS_INVENTORY_CERT_REQUESTS_H_
#define ERS_INVENTORY_CERT_REQUESTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inventory/inventory.h"

namespace ers {

struct CertRequestRecord {
  std::string request_id;  // the client's, the CLM's idempotency key
  std::string common_name;
  std::vector<std::string> names;  // the subjectAltNames asked for
  std::string key_type;            // "ec-p256", ...
  int days = 0;                    // 0: the CLM's longest
  std::string files;               // the base path of its files
  // new (saved, not yet answered), pending (held by the CLM), issued,
  // rejected.
  std::string status = "new";
  std::string reason;  // the CLM's words, when rejected
  int64_t clm_id = 0;
  std::string serial;
  int64_t not_after = 0;
  std::string certificate_sha256;
  std::string renews;  // the request id or certificate sha256 it renews
};

// SaveCertRequest stores |r| (by request id, replacing an earlier save).
[[nodiscard]] absl::Status SaveCertRequest(Inventory& inv, const CertRequestRecord& r);
// FindCertRequest returns the request |request_id|, if saved.
[[nodiscard]] absl::StatusOr<std::optional<CertRequestRecord>> FindCertRequest(
    Inventory& inv, const std::string& request_id);
// OpenCertRequestFor returns the request for files |files| that has no
// answer yet or is held (new, pending), if any.
[[nodiscard]] absl::StatusOr<std::optional<CertRequestRecord>> OpenCertRequestFor(
    Inventory& inv, const std::string& files);
// CertRequests returns every saved request, oldest first.
[[nodiscard]] absl::StatusOr<std::vector<CertRequestRecord>> CertRequests(Inventory& inv);

}  // namespace ers

#endif  // ERS_INVENTORY_CERT_REQUESTS_H_

// findings.h: what is wrong with an endpoint's certificates, as findings
// with stable identifiers and severities, under a policy the user can
// change (expiry thresholds, key sizes, validity limit).
//
// Identifiers (stable; documented in docs/findings.md):
//   expired, expiring_soon, not_yet_valid, intermediate_expired,
//   self_signed_leaf, untrusted, incomplete_chain, misordered_chain,
//   duplicate_certificates, unrelated_certificates, root_included,
//   weak_key, weak_signature, long_validity, hostname_mismatch,
//   missing_san, ca_leaf, deprecated_tls, unparsable_certificate,
//   revoked, ocsp_staple_invalid, crl_invalid.
#ifndef ERS_X509_FINDINGS_H_
#define ERS_X509_FINDINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "x509/chain.h"

namespace ers {

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
const char* SeverityName(Severity s);
// ParseSeverity reads a SeverityName; nullopt for anything else.
std::optional<Severity> ParseSeverity(absl::string_view name);

struct Finding {
  std::string id;
  Severity severity = Severity::kInfo;
  std::string message;
  int cert = 0;  // position on the normalized path (0: leaf), -1: the chain
  int64_t days_left = 0;       // expiring_soon: whole days until not-after
  int threshold_days = 0;      // expiring_soon: the smallest threshold met
};

// Policy holds the limits findings are judged by.
struct Policy {
  // A leaf is expiring_soon when its days left fall under a threshold or
  // under this fraction of its validity period (0: no lifetime rule),
  // whichever comes first; a threshold longer than that fraction of a
  // certificate's validity is not applied to it, so a healthy 90-day (or
  // 6-day) certificate is not flagged when it is fresh.
  std::vector<int> expiry_thresholds_days = {30, 14, 7, 3};
  double expiry_lifetime_fraction = 1.0 / 3;
  int min_rsa_bits = 2048;
  int min_ec_bits = 256;
  int max_public_validity_days = 398;
};

// DaysLeft is the whole days from |now_unix| until |not_after_unix|, the
// one computation behind findings, reports and exports: floor division, so
// a certificate that expired an hour ago has -1 days left.
int64_t DaysLeft(int64_t not_after_unix, int64_t now_unix);

// ParsePolicy reads a policy file: "key = value" lines, '#' comments, keys
// expiry_thresholds_days (comma list), expiry_lifetime_fraction (0 to 1),
// min_rsa_bits, min_ec_bits,
// max_public_validity_days. Unknown keys and bad values are errors with the
// line number.
[[nodiscard]] absl::StatusOr<Policy> ParsePolicy(absl::string_view text,
                                                 absl::string_view source);

// EndpointFacts is what the probe adds to the chain.
struct EndpointFacts {
  std::string host;        // the host name for host-name targets, else ""
  uint16_t tls_version = 0;  // negotiated, e.g. 0x0301 for TLS 1.0
  // fetched: issuer certificates fetched for this chain (AIA), DER.
  std::vector<std::string> fetched;
  std::string ocsp_response;  // stapled, DER; "" for none
  bool ocsp_from_responder = false;  // asked of the responder (--revocation ocsp)
  std::vector<std::string> crls;     // CRLs fetched for the path (--revocation crl), DER
};

// ChainReport is the full analysis of one served chain.
struct ChainReport {
  NormalizedChain chain;
  Validation validation;
  std::vector<Finding> findings;
  // aia: the caIssuers fetches made for this chain by the caller (x509/
  // does no I/O), each with its outcome ("ok: 1 certificate" or the error).
  struct AiaFetch {
    std::string url;
    std::string outcome;
  };
  std::vector<AiaFetch> aia;
};

// AnalyzeChain normalizes |served|, validates it at |now_unix| against
// |store| and lists its findings under |policy|.
// |cache|, when not null, parses each distinct certificate once.
ChainReport AnalyzeChain(const std::vector<std::string>& served,
                         const EndpointFacts& facts, const TrustStore& store,
                         const Policy& policy, int64_t now_unix,
                         CertificateCache* cache = nullptr);

}  // namespace ers

#endif  // ERS_X509_FINDINGS_H_

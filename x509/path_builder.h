// path_builder.h: finds a path from a leaf to a trust anchor and judges it
// by the rules of RFC 5280 and the CA/Browser Forum's baseline for server
// certificates. Every candidate issuer is explored (served certificates,
// fetched ones, the intermediate cache, the anchors), paths that fail are
// abandoned for the next candidate (cross-signs, an expired cross-sign next
// to a valid one), loops are cut, and the work is bounded. BoringSSL only
// checks signatures; the rules are ers's and docs/findings.md lists them.
#ifndef ERS_X509_PATH_BUILDER_H_
#define ERS_X509_PATH_BUILDER_H_

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

#include "x509/certificate.h"
#include "x509/trust_store.h"

namespace ers {

// CertSource is where a path's certificate came from.
enum class CertSource : uint8_t { kServed, kAia, kCache, kAnchor };
const char* CertSourceName(CertSource s);

// PathCandidate is a certificate the builder may use. Not owned.
struct PathCandidate {
  const Certificate* cert = nullptr;
  X509* x509 = nullptr;
  CertSource source = CertSource::kServed;
};

struct PathOptions {
  // peer_name: the DNS name or IP address literal the leaf must be valid
  // for, matched against its subjectAltName only; "" for none.
  std::string peer_name;
  int64_t now_unix = 0;
  // Bounds against hostile chains.
  int max_intermediates = 8;
  int max_signature_checks = 128;
  int max_paths = 32;  // complete paths judged before giving up
};

// A rejection: a stable reason and what exactly is wrong.
struct PathError {
  std::string reason;  // e.g. "expired", "name_constraints"
  std::string detail;  // e.g. "Example CA: expired 3 days ago"
};

struct PathResult {
  bool trusted = false;
  // The path found, or the best one tried: leaf first.
  std::vector<PathCandidate> path;
  std::vector<PathError> errors;  // empty when trusted
  // issuer_missing: the path stops at a certificate that is not an anchor
  // and whose issuer no source holds (no candidate by name).
  bool issuer_missing = false;
  int signature_checks = 0;
  int paths_judged = 0;
};

// BuildPath builds and judges a path for |leaf| for TLS server use, from
// |untrusted| (served and fetched certificates) and |store| (anchors and
// the intermediate cache).
PathResult BuildPath(const PathCandidate& leaf, const std::vector<PathCandidate>& untrusted,
                     const TrustStore& store, const PathOptions& options);

}  // namespace ers

#endif  // ERS_X509_PATH_BUILDER_H_

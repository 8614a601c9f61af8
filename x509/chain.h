// chain.h: what a server's chain really is. NormalizeChain orders the served
// certificates leaf to root by issuer name and key identifiers, sets aside
// duplicates and unrelated extras, and says what the server did wrong;
// ValidateChain builds and judges the path to a trust anchor, completing it
// from the intermediate cache or fetched certificates when the server left
// it incomplete.
#ifndef ERS_X509_CHAIN_H_
#define ERS_X509_CHAIN_H_

#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "x509/certificate.h"
#include "x509/certificate_cache.h"
#include "x509/crl.h"
#include "x509/ocsp.h"
#include "x509/trust_store.h"

namespace ers {

struct NormalizedChain {
  // The certificates that parsed, in served order; served_index[i] is the
  // position certs[i] was served at.
  std::vector<Certificate> certs;
  std::vector<bssl::UniquePtr<X509>> x509;
  std::vector<int> served_index;
  // parse_errors: one message per served certificate that did not parse.
  std::vector<std::string> parse_errors;

  std::vector<int> path;        // indices into certs: leaf, its issuer, ...
  std::vector<int> duplicates;  // served positions repeating an earlier one
  std::vector<int> unrelated;   // indices into certs not on the path
  bool misordered = false;      // the path is not in served order
  bool root_included = false;   // the path ends in a self-signed CA served
  bool has_leaf() const { return !path.empty(); }
  const Certificate& leaf() const { return certs[path[0]]; }
};

// NormalizeChain analyses |served| (DER, in the order served). The leaf is
// the first certificate, as TLS requires; if it does not parse there is no
// path. With |cache|, certificates already parsed are taken from it.
NormalizedChain NormalizeChain(const std::vector<std::string>& served,
                               CertificateCache* cache = nullptr);

struct Validation {
  bool trusted = false;
  // completed_from_cache: the path needed intermediates the server did not
  // send (taken from the store's cache); completed_via names the source of
  // the path's intermediates: "served", "cache" or "aia".
  bool completed_from_cache = false;
  std::string completed_via = "served";
  // anchored_public: the trust anchor came from a public bundle.
  bool anchored_public = false;
  // issuer_missing: the best path ends at a certificate that is not an
  // anchor and whose issuer no source holds; missing_issuer_urls are that
  // certificate's AIA caIssuers URLs (where a fetcher may find it).
  bool issuer_missing = false;
  std::vector<std::string> missing_issuer_urls;
  // reasons, when not trusted: stable identifiers (docs/findings.md), e.g.
  // "expired", "unknown_issuer", "name_constraints"; details[i] says
  // exactly what is wrong for reasons[i].
  std::vector<std::string> reasons;
  std::vector<std::string> details;
  std::vector<std::string> verified_path;  // SHA-256 hex, leaf to anchor
  int signature_checks = 0;
  // ocsp: the stapled response judged (ocsp.h), when the server stapled
  // one. A valid response saying revoked makes the chain untrusted
  // ("revoked").
  std::optional<OcspVerdict> ocsp;
  bool ocsp_from_responder = false;  // asked of the responder, not stapled
  bool crl_checked = false;  // an applicable CRL was judged
  // leaf_issuer_der: the DER of the leaf's issuer on the path, when known.
  std::string leaf_issuer_der;
};

struct ValidationOptions {
  // peer_name: the host name (or IP address literal) the leaf must be
  // valid for, for host-name targets; "" for address targets.
  std::string peer_name;
  int64_t now_unix = 0;
  int max_intermediates = 8;
  // fetched: certificates fetched for this chain (AIA), DER.
  std::vector<std::string> fetched;
  // ocsp_response: the OCSP response the server stapled (DER), or "";
  // ocsp_from_responder: it was asked of the leaf's responder instead.
  std::string ocsp_response;
  bool ocsp_from_responder = false;
  // crls: CRLs (DER) to judge the path's certificates by (crl.h): one
  // issued by a certificate's issuer applies to it; a revoked certificate
  // makes the chain untrusted ("revoked"), and so does an applicable CRL
  // that cannot be relied on ("revocation_unknown": asked to check, ers
  // cannot tell).
  std::vector<std::string> crls;
};

// ValidateChain builds and judges a path from |chain|'s leaf to an anchor
// of |store| for TLS server use (path_builder.h), with the served
// certificates, |options.fetched| and the store's intermediate cache as
// candidate issuers.
Validation ValidateChain(const NormalizedChain& chain, const TrustStore& store,
                         const ValidationOptions& options);

}  // namespace ers

#endif  // ERS_X509_CHAIN_H_

// ocsp.h: judges a stapled OCSP response (RFC 6960) for a leaf: parsed with
// CBS (BoringSSL has no OCSP), matched to the leaf by certificate ID,
// signed by the issuer or by a responder the issuer delegated to
// (id-kp-OCSPSigning), and fresh at the time of the scan. No I/O.
#ifndef ERS_X509_OCSP_H_
#define ERS_X509_OCSP_H_

#include <openssl/x509.h>

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ers {

enum class OcspStatus : uint8_t { kGood, kRevoked, kUnknown };
const char* OcspStatusName(OcspStatus s);

struct OcspVerdict {
  // valid: the response parsed, names the leaf, is signed by an authorised
  // responder and is fresh. When not, |problem| says why and |status| is
  // not to be believed.
  bool valid = false;
  std::string problem;
  OcspStatus status = OcspStatus::kUnknown;
  int64_t this_update = 0;
  int64_t next_update = 0;   // 0: absent
  int64_t revoked_at = 0;    // kRevoked
  int revocation_reason = -1;  // CRLReason, -1: absent
};

// CheckOcspResponse judges the DER OCSP response |der| for |leaf|, issued by
// |issuer|, at |now_unix|. A response without nextUpdate is fresh for 4
// days after thisUpdate; 5 minutes of clock skew are allowed.
OcspVerdict CheckOcspResponse(absl::string_view der, X509* leaf, X509* issuer, int64_t now_unix);

// OcspRequestFor returns the DER OCSPRequest (RFC 6960 4.1) asking about
// |leaf|, issued by |issuer|: one request, a SHA-1 certificate ID (what
// responders are required to accept), no nonce (so answers may be cached).
// "" if the certificates cannot be encoded.
std::string OcspRequestFor(X509* leaf, X509* issuer);

}  // namespace ers

#endif  // ERS_X509_OCSP_H_

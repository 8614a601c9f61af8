// crl.h: judges a certificate revocation list (RFC 5280 section 5) for one
// certificate and its issuer: whether it applies (issued by that issuer),
// whether it can be relied on (signature, the issuer's cRLSign usage, a
// non-critical CRL number, no critical extension ers does not know, fresh),
// and whether it lists the certificate. No I/O.
#ifndef ERS_X509_CRL_H_
#define ERS_X509_CRL_H_

#include <openssl/x509.h>

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ers {

struct CrlVerdict {
  bool applies = false;  // the CRL is issued by |issuer| (else ignore it)
  bool valid = false;    // it applies and can be relied on; else |problem|
  std::string problem;
  bool revoked = false;
  int64_t revoked_at = 0;
};

// CheckCrl judges the DER CRL |der| for |cert| issued by |issuer| at
// |now_unix| (5 minutes of clock skew allowed).
CrlVerdict CheckCrl(absl::string_view der, X509* cert, X509* issuer, int64_t now_unix);

}  // namespace ers

#endif  // ERS_X509_CRL_H_

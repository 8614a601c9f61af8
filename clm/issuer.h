// issuer.h: the reference CLM's issuing CA. It signs a judged request
// (issuing_policy.h) into a TLS server certificate with BoringSSL: the
// request's key and names, CN only in the subject, serverAuth, a random
// 128-bit serial, the validity asked for (backdated 5 minutes for clock
// skew), key identifiers, and nothing of the request's beyond that.
#ifndef ERS_CLM_ISSUER_H_
#define ERS_CLM_ISSUER_H_

#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "enroll/csr.h"

namespace ers {

struct IssuedCertificate {
  std::string certificate_pem;  // the leaf
  std::string chain_pem;        // the issuing CA's chain (the --issuing-ca file's certificates)
  std::string serial_hex;
  int64_t not_after_unix = 0;
};

class Issuer {
 public:
  // Load reads the CA's certificate chain (|chain_pem|: the issuing CA
  // first, then its issuers) and its private key. The key must be the first
  // certificate's, and that certificate a CA that may sign certificates.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Issuer>> Load(const std::string& chain_pem,
                                                                    const std::string& key_pem);

  // Issue signs |csr| for |days| (at least 1).
  [[nodiscard]] absl::StatusOr<IssuedCertificate> Issue(const CsrInfo& csr, int days) const;

 private:
  Issuer() = default;
  bssl::UniquePtr<X509> ca_;
  bssl::UniquePtr<EVP_PKEY> key_;
  std::string chain_pem_;
};

}  // namespace ers

#endif  // ERS_CLM_ISSUER_H_

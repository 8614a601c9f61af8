// trust_store.h: the roots a chain is validated against (the system's CA
// bundle and enterprise roots), and a cache of known intermediates used to
// complete chains that servers leave incomplete, the way browsers do. Built
// from PEM text: reading files is the caller's business.
#ifndef ERS_X509_TRUST_STORE_H_
#define ERS_X509_TRUST_STORE_H_

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ers {

class TrustStore {
 public:
  TrustStore();
  TrustStore(TrustStore&&) = default;
  TrustStore& operator=(TrustStore&&) = default;

  // AddRootsPem adds every certificate in |pem| as a trust anchor. |public|
  // marks roots of the public Web PKI (the system bundle), whose leaves are
  // held to public rules such as the 398-day validity limit. Returns
  // kInvalidArgument naming |source| when |pem| holds no certificate or a
  // malformed one.
  [[nodiscard]] absl::Status AddRootsPem(absl::string_view pem,
                                         absl::string_view source,
                                         bool is_public);
  // AddIntermediatesPem adds certificates used only to complete chains.
  [[nodiscard]] absl::Status AddIntermediatesPem(absl::string_view pem,
                                                 absl::string_view source);

  X509_STORE* store() const { return store_.get(); }
  const std::vector<bssl::UniquePtr<X509>>& intermediates() const {
    return intermediates_;
  }
  size_t num_roots() const { return num_roots_; }
  // IsPublicRoot reports whether the root with this SHA-256 (hex) came from
  // a public bundle.
  bool IsPublicRoot(const std::string& sha256_hex) const {
    return public_roots_.contains(sha256_hex);
  }

 private:
  bssl::UniquePtr<X509_STORE> store_;
  std::vector<bssl::UniquePtr<X509>> intermediates_;
  absl::flat_hash_set<std::string> public_roots_;
  size_t num_roots_ = 0;
};

// ParsePemCertificates parses every CERTIFICATE block of |pem|.
[[nodiscard]] absl::Status ParsePemCertificates(
    absl::string_view pem, absl::string_view source,
    std::vector<bssl::UniquePtr<X509>>* out);

// Sha256Hex returns the SHA-256 of |cert|'s DER, in hex.
std::string Sha256Hex(X509* cert);

}  // namespace ers

#endif  // ERS_X509_TRUST_STORE_H_

// trust_store.h: the roots a chain is validated against (the system's CA
// bundle and enterprise roots), and a cache of known intermediates used to
// complete chains that servers leave incomplete, the way browsers do. Built
// from PEM or DER text: reading files is the caller's business. Both sets
// are indexed by subject name for the path builder.
#ifndef ERS_X509_TRUST_STORE_H_
#define ERS_X509_TRUST_STORE_H_

#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "x509/certificate.h"

namespace ers {

// TrustedCertificate is a stored root or intermediate, parsed, with
// BoringSSL's object.
struct TrustedCertificate {
  Certificate cert;
  bssl::UniquePtr<X509> x509;
};

class TrustStore {
 public:
  TrustStore() = default;
  TrustStore(TrustStore&&) = default;
  TrustStore& operator=(TrustStore&&) = default;

  // AddRootsPem adds every certificate in |pem| as a trust anchor. An
  // anchor need not be self-signed: an organisation may trust its issuing
  // intermediate. |is_public| marks roots of the public Web PKI (the system
  // bundle), whose leaves are held to public rules such as the 398-day
  // validity limit. Returns kInvalidArgument naming |source| when |pem|
  // holds no certificate or a malformed one. A repeated root is ignored.
  [[nodiscard]] absl::Status AddRootsPem(absl::string_view pem, absl::string_view source,
                                         bool is_public);
  // AddRootDer adds one DER certificate as a trust anchor.
  [[nodiscard]] absl::Status AddRootDer(absl::string_view der, bool is_public);
  // AddIntermediatesPem adds certificates used only to complete chains.
  [[nodiscard]] absl::Status AddIntermediatesPem(absl::string_view pem,
                                                 absl::string_view source);

  // RootsNamed and IntermediatesNamed return the certificates whose
  // subject is |subject_der| (DER of the Name).
  std::vector<const TrustedCertificate*> RootsNamed(absl::string_view subject_der) const;
  std::vector<const TrustedCertificate*> IntermediatesNamed(absl::string_view subject_der) const;

  // IsRoot reports whether the certificate with this SHA-256 (hex) is a
  // trust anchor; IsPublicRoot, whether it came from a public bundle.
  bool IsRoot(const std::string& sha256_hex) const { return roots_by_sha_.contains(sha256_hex); }
  bool IsPublicRoot(const std::string& sha256_hex) const {
    return public_roots_.contains(sha256_hex);
  }
  size_t num_roots() const { return roots_.size(); }
  size_t num_intermediates() const { return intermediates_.size(); }

 private:
  using Index = absl::flat_hash_map<std::string, std::vector<size_t>>;
  absl::Status Add(bssl::UniquePtr<X509> x509, bool root, bool is_public);
  static std::vector<const TrustedCertificate*> Named(
      const std::vector<std::unique_ptr<TrustedCertificate>>& certs, const Index& index,
      absl::string_view subject_der);

  std::vector<std::unique_ptr<TrustedCertificate>> roots_;
  std::vector<std::unique_ptr<TrustedCertificate>> intermediates_;
  Index roots_by_subject_;
  Index intermediates_by_subject_;
  absl::flat_hash_set<std::string> roots_by_sha_;
  absl::flat_hash_set<std::string> intermediates_by_sha_;
  absl::flat_hash_set<std::string> public_roots_;
};

// ParsePemCertificates parses every CERTIFICATE block of |pem|.
[[nodiscard]] absl::Status ParsePemCertificates(
    absl::string_view pem, absl::string_view source,
    std::vector<bssl::UniquePtr<X509>>* out);

// Sha256Hex returns the SHA-256 of |cert|'s DER, in hex.
std::string Sha256Hex(X509* cert);

}  // namespace ers

#endif  // ERS_X509_TRUST_STORE_H_

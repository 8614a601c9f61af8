// name_constraints.h: RFC 5280 name constraints (section 4.2.1.10), judged
// by ers rather than the TLS library, for every name form a certificate can
// carry: DNS names, IP addresses, e-mail addresses, URIs and directory
// names. A constraint of a form ers cannot judge (otherName, x400Address,
// ediPartyName, registeredID) rejects only certificates that carry a name
// of that form, which is what RFC 5280 asks of a verifier that does not
// implement it.
#ifndef ERS_X509_NAME_CONSTRAINTS_H_
#define ERS_X509_NAME_CONSTRAINTS_H_

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace ers {

// NameConstraintsOf reads |ca|'s name constraints extension. nullopt when
// it has none; kInvalidArgument when it is malformed (a minimum or maximum
// other than the defaults, an IP constraint that is not an address and a
// mask, a DNS constraint that is not a name).
class NameConstraintSet;
[[nodiscard]] absl::StatusOr<std::optional<NameConstraintSet>> NameConstraintsOf(X509* ca);

class NameConstraintSet {
 public:
  NameConstraintSet(NameConstraintSet&&) = default;
  NameConstraintSet& operator=(NameConstraintSet&&) = default;

  // Check judges |cert| (a certificate below the constraining CA on a
  // path): every name in its subjectAltName, its subject and the e-mail
  // addresses of its subject. Returns "" when the names are allowed, else
  // why not, e.g. "DNS name a.example.org is not permitted".
  std::string Check(X509* cert) const;

 private:
  friend absl::StatusOr<std::optional<NameConstraintSet>> NameConstraintsOf(X509* ca);
  explicit NameConstraintSet(bssl::UniquePtr<NAME_CONSTRAINTS> nc) : nc_(std::move(nc)) {}
  bssl::UniquePtr<NAME_CONSTRAINTS> nc_;
};

}  // namespace ers

#endif  // ERS_X509_NAME_CONSTRAINTS_H_

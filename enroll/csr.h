// csr.h: PKCS#10 certificate signing requests. The client side builds one
// for the names it asks for (BuildCsr); the CLM side reads one back,
// verifying its signature, to judge it (ParseCsr). Both with BoringSSL.
#ifndef ERS_ENROLL_CSR_H_
#define ERS_ENROLL_CSR_H_

#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"

namespace ers {

// RequestNames is what a certificate is asked for: the subject's common
// name and the subjectAltName entries, which always include the common
// name (as the CA/Browser Forum requires). DNS names are lower case.
struct RequestNames {
  std::string common_name;
  std::vector<std::string> dns;
  std::vector<IpAddress> ips;
  // Entries the CLM may not issue for (e-mail, URI, other names), as
  // "email:a@b"; ParseCsr fills it, BuildCsr never makes any.
  std::vector<std::string> others;

  friend bool operator==(const RequestNames& a, const RequestNames& b) {
    return a.common_name == b.common_name && a.dns == b.dns && a.ips == b.ips &&
           a.others == b.others;
  }
};

// kMaxRequestNames bounds the names of one request.
inline constexpr size_t kMaxRequestNames = 100;

// ParseRequestNames checks |common_name| (a DNS name, "*.name", or an IP
// address) and |sans| (a comma-separated list of the same) and returns the
// names, the common name among the SANs, duplicates removed, in the order
// given. The error names the entry that is wrong.
[[nodiscard]] absl::StatusOr<RequestNames> ParseRequestNames(absl::string_view common_name,
                                                             absl::string_view sans);

// NameStrings returns the SANs as text: DNS names, then addresses.
std::vector<std::string> NameStrings(const RequestNames& names);

// BuildCsr returns a PEM request for |names| signed with |key| (SHA-256):
// subject CN=common_name, one extensionRequest holding subjectAltName.
[[nodiscard]] absl::StatusOr<std::string> BuildCsr(const RequestNames& names, EVP_PKEY* key);

// CsrInfo is what ParseCsr read from a request.
struct CsrInfo {
  RequestNames names;
  std::string key;  // DescribeKey of its public key
  // The extensions requested beyond subjectAltName, as OID short names or
  // dotted numbers ("basicConstraints", "1.2.3.4").
  std::vector<std::string> other_extensions;
  std::string der_sha256;  // hex, of the request's DER
  bssl::UniquePtr<X509_REQ> request;
};

// kMaxCsrBytes bounds a request's PEM.
inline constexpr size_t kMaxCsrBytes = 64 * 1024;

// ParseCsr parses one PEM request, verifies that its own key signed it,
// and reads its names and extensions. kInvalidArgument says what is wrong:
// not PEM, malformed, a signature that does not verify, malformed names.
[[nodiscard]] absl::StatusOr<CsrInfo> ParseCsr(absl::string_view pem);

}  // namespace ers

#endif  // ERS_ENROLL_CSR_H_

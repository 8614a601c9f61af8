// certificate.h: one X.509 certificate parsed with BoringSSL into a plain
// value type: names, validity, key, signature, extensions and fingerprints.
// No I/O; malformed DER is an error value, never a crash.
#ifndef ERS_X509_CERTIFICATE_H_
#define ERS_X509_CERTIFICATE_H_

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ers {

// KeyType is the subject public key's algorithm.
enum class KeyType : uint8_t { kUnknown, kRsa, kEc, kEd25519, kDsa };
const char* KeyTypeName(KeyType t);

// Digest is the hash of a signature algorithm, for weak-signature checks.
enum class Digest : uint8_t { kUnknown, kMd5, kSha1, kSha256, kSha384, kSha512, kNone };
const char* DigestName(Digest d);

struct Certificate {
  std::string der;  // the certificate as received

  // Names: the full DN in RFC 2253 form, and single attributes (UTF-8).
  std::string subject;
  std::string subject_cn;
  std::string subject_org;
  std::string issuer;
  std::string issuer_cn;
  std::string issuer_org;
  std::string subject_der;  // DER of the Name, for exact matching
  std::string issuer_der;

  std::string serial_hex;  // big-endian hex, "-" prefix if negative
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;

  KeyType key_type = KeyType::kUnknown;
  int key_bits = 0;        // RSA modulus or EC field size
  std::string key_curve;   // e.g. "P-256"
  // key_supported is false when BoringSSL cannot parse the key (a curve
  // such as P-192 or brainpool, Ed448, an RSA modulus beyond its limits):
  // TLS clients built on it refuse the certificate. key_type, key_curve
  // and key_bits are then read from the SubjectPublicKeyInfo itself
  // (key_curve names the algorithm's OID when it is not EC or RSA).
  bool key_supported = true;
  std::string signature_algorithm;  // e.g. "ecdsa-with-SHA256"
  Digest signature_digest = Digest::kUnknown;

  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> emails;
  std::vector<std::string> uris;

  bool has_basic_constraints = false;
  bool is_ca = false;
  int path_len = -1;  // -1: no constraint
  std::vector<std::string> key_usage;           // "digitalSignature", ...
  std::vector<std::string> extended_key_usage;  // "serverAuth", or an OID
  std::vector<std::string> ocsp_urls;
  std::vector<std::string> ca_issuer_urls;
  std::vector<std::string> crl_urls;
  std::vector<std::string> policy_oids;
  int embedded_sct_count = 0;
  bool must_staple = false;

  std::string subject_key_id;    // raw bytes, empty if absent
  std::string authority_key_id;  // raw bytes (keyIdentifier), empty if absent

  std::string sha256_hex;
  std::string sha1_hex;
  std::string spki_sha256_hex;

  // self_issued: subject and issuer names are equal. self_signed: and the
  // signature verifies with the certificate's own key.
  bool self_issued = false;
  bool self_signed = false;
};

// DisplayName is how messages name |c|: its subject CN, else its full DN.
inline const std::string& DisplayName(const Certificate& c) {
  return c.subject_cn.empty() ? c.subject : c.subject_cn;
}

// ParseCertificate parses one DER certificate. Trailing bytes, bad DER and
// unsupported structures are kInvalidArgument with BoringSSL's reason. When
// |out_x509| is not null it receives BoringSSL's object too (for
// verification), so nothing is parsed twice.
[[nodiscard]] absl::StatusOr<Certificate> ParseCertificate(
    absl::string_view der, bssl::UniquePtr<X509>* out_x509 = nullptr);

}  // namespace ers

#endif  // ERS_X509_CERTIFICATE_H_

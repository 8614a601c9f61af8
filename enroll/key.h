// key.h: the private keys ers generates for a certificate request, with
// BoringSSL, and the names of key types that the CLI, the CLM's policy and
// its refusals share ("ec-p256", "rsa-3072", ...).
#ifndef ERS_ENROLL_KEY_H_
#define ERS_ENROLL_KEY_H_

#include <string>

#include <openssl/evp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ers {

enum class EnrollKeyType { kEcP256, kEcP384, kRsa2048, kRsa3072 };

// EnrollKeyTypeName returns "ec-p256", "ec-p384", "rsa-2048" or "rsa-3072".
const char* EnrollKeyTypeName(EnrollKeyType type);

// ParseEnrollKeyType parses one of EnrollKeyTypeName's names; the error lists them.
[[nodiscard]] absl::StatusOr<EnrollKeyType> ParseEnrollKeyType(absl::string_view name);

// GenerateKey makes a fresh private key of |type| from BoringSSL's RNG.
[[nodiscard]] absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> GenerateKey(EnrollKeyType type);

// PrivateKeyPem renders |key| as an unencrypted PKCS#8 PEM block
// ("BEGIN PRIVATE KEY"), for a file only its owner may read.
[[nodiscard]] absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key);

// ReadPrivateKeyPem parses a PEM private key (PKCS#8, or the traditional
// RSA and EC forms).
[[nodiscard]] absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ReadPrivateKeyPem(absl::string_view pem);

// DescribeKey names a public key the way EnrollKeyTypeName does, for any key a
// CSR may carry: "ec-p256", "ec-p384", "ec-p521", "ec-p224", "rsa-1024",
// "rsa-4096", "ed25519", or "unknown".
std::string DescribeKey(const EVP_PKEY* key);

}  // namespace ers

#endif  // ERS_ENROLL_KEY_H_

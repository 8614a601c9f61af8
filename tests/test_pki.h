// test_pki.h: builds keys and certificates in memory with BoringSSL for the
// tests, the demo farm and the benchmarks: a root, an intermediate and
// leaves with chosen names, key types, validity and signature digests.
#ifndef ERS_TESTS_TEST_PKI_H_
#define ERS_TESTS_TEST_PKI_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ers {
namespace testpki {

enum class KeyType { kEcP256, kEcP384, kEcP224, kRsa2048, kRsa1024 };

// MakeKey returns a fresh private key of |type|; it aborts the test program
// on failure (key generation does not fail short of memory exhaustion).
bssl::UniquePtr<EVP_PKEY> MakeKey(KeyType type);

struct CertSpec {
  std::string common_name;
  std::string organization = "ers test PKI";
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
  // other_names: further subjectAltName entries in OpenSSL config syntax,
  // e.g. "email:a@example.org", "URI:https://example.org/".
  std::vector<std::string> other_names;
  bool is_ca = false;
  int64_t not_before_offset_s = -3600;            // relative to now
  // 200 days: clear of the default 90-day expiry threshold, under 398.
  int64_t not_after_offset_s = 200 * 24 * 3600;   // relative to now
  const EVP_MD* digest = nullptr;                 // default SHA-256
  uint64_t serial = 1;
  // ext_key_usage for leaves ("" for none), e.g. "serverAuth", "clientAuth".
  std::string ext_key_usage = "serverAuth";
  bool ca_leaf = false;  // basicConstraints CA:TRUE on a non-CA spec's cert
  // key_usage overrides the keyUsage extension (OpenSSL config syntax,
  // e.g. "critical,keyCertSign"); "" keeps the default for the spec.
  std::string key_usage;
  // basic_constraints overrides basicConstraints the same way, e.g.
  // "critical,CA:TRUE,pathlen:0".
  std::string basic_constraints;
  // extensions: more extensions, (NID, OpenSSL config value), e.g.
  // {NID_name_constraints, "critical,excluded;DNS:example.org"}.
  std::vector<std::pair<int, std::string>> extensions;
};

// MakeCert issues a certificate for |spec| and |subject_key|, signed by
// |issuer_key| as |issuer| (or self-signed when |issuer| is null).
bssl::UniquePtr<X509> MakeCert(const CertSpec& spec, EVP_PKEY* subject_key,
                               X509* issuer, EVP_PKEY* issuer_key);

// Der, CertPem and KeyPem serialize.
std::string Der(X509* cert);
std::string CertPem(X509* cert);
std::string KeyPem(EVP_PKEY* key);

// Chain is a leaf issued by an intermediate issued by a root.
struct Chain {
  bssl::UniquePtr<EVP_PKEY> root_key, intermediate_key, leaf_key;
  bssl::UniquePtr<X509> root, intermediate, leaf;
  // ServedPem returns leaf then intermediate, as a server sends them.
  std::string ServedPem() const;
};

// MakeChain builds a fresh three-level chain whose leaf names |dns_name|
// and has a key of |leaf_key_type|. |serial_base| keeps serials distinct.
Chain MakeChain(const std::string& dns_name, KeyType leaf_key_type,
                uint64_t serial_base = 1);

// WriteFile writes |contents| to |path|; returns false on failure.
bool WriteFile(const std::string& path, const std::string& contents);

}  // namespace testpki
}  // namespace ers

#endif  // ERS_TESTS_TEST_PKI_H_

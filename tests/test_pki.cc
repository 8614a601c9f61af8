#include "tests/test_pki.h"

#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace ers {
namespace testpki {
namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "test_pki: %s failed\n", what);
  abort();
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  // Zeroed first: X509V3_set_ctx leaves the config database pointer unset.
  X509V3_CTX ctx;
  memset(&ctx, 0, sizeof(ctx));
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr,
                 nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(
      X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1)) Die("add extension");
}

}  // namespace

bssl::UniquePtr<EVP_PKEY> MakeKey(KeyType type) {
  bssl::UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new());
  if (type == KeyType::kEcP256 || type == KeyType::kEcP384 ||
      type == KeyType::kEcP224) {
    bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(
        type == KeyType::kEcP256   ? NID_X9_62_prime256v1
        : type == KeyType::kEcP384 ? NID_secp384r1
                                   : NID_secp224r1));
    if (!ec || !EC_KEY_generate_key(ec.get()) ||
        !EVP_PKEY_assign_EC_KEY(pkey.get(), ec.release())) {
      Die("EC key generation");
    }
    return pkey;
  }
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  if (!rsa || !e || !BN_set_word(e.get(), RSA_F4) ||
      !RSA_generate_key_ex(rsa.get(), type == KeyType::kRsa2048 ? 2048 : 1024,
                           e.get(), nullptr) ||
      !EVP_PKEY_assign_RSA(pkey.get(), rsa.release())) {
    Die("RSA key generation");
  }
  return pkey;
}

bssl::UniquePtr<X509> MakeCert(const CertSpec& spec, EVP_PKEY* subject_key,
                               X509* issuer, EVP_PKEY* issuer_key) {
  bssl::UniquePtr<X509> cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3) ||
      !ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), spec.serial) ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_offset_s) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_offset_s) ||
      !X509_set_pubkey(cert.get(), subject_key)) {
    Die("certificate fields");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!X509_NAME_add_entry_by_txt(
          name, "O", MBSTRING_UTF8,
          reinterpret_cast<const uint8_t*>(spec.organization.c_str()), -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const uint8_t*>(spec.common_name.c_str()), -1, -1, 0)) {
    Die("subject name");
  }
  if (!X509_set_issuer_name(cert.get(), issuer != nullptr
                                            ? X509_get_subject_name(issuer)
                                            : name)) {
    Die("issuer name");
  }
  AddExtension(cert.get(), issuer, NID_basic_constraints,
               !spec.basic_constraints.empty()  ? spec.basic_constraints
               : spec.is_ca || spec.ca_leaf ? "critical,CA:TRUE"
                                              : "critical,CA:FALSE");
  AddExtension(cert.get(), issuer, NID_key_usage,
               !spec.key_usage.empty() ? spec.key_usage
               : spec.is_ca            ? "critical,keyCertSign,cRLSign"
                                       : "critical,digitalSignature,keyEncipherment");
  AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  }
  if (!spec.is_ca && !spec.ext_key_usage.empty()) {
    AddExtension(cert.get(), issuer, NID_ext_key_usage, spec.ext_key_usage);
  }
  std::string san;
  for (const std::string& dns : spec.dns_names) {
    san += (san.empty() ? "" : ",") + std::string("DNS:") + dns;
  }
  for (const std::string& ip : spec.ip_addresses) {
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  for (const std::string& other : spec.other_names) {
    san += (san.empty() ? "" : ",") + other;
  }
  if (!san.empty()) AddExtension(cert.get(), issuer, NID_subject_alt_name, san);
  for (const auto& [nid, value] : spec.extensions) AddExtension(cert.get(), issuer, nid, value);
  if (!X509_sign(cert.get(), issuer_key,
                 spec.digest != nullptr ? spec.digest : EVP_sha256())) {
    Die("X509_sign");
  }
  return cert;
}

std::string Der(X509* cert) {
  uint8_t* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len < 0) Die("i2d_X509");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string CertPem(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) Die("PEM_write_bio_X509");
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string KeyPem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                nullptr)) {
    Die("PEM_write_bio_PrivateKey");
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string Chain::ServedPem() const {
  return CertPem(leaf.get()) + CertPem(intermediate.get());
}

Chain MakeChain(const std::string& dns_name, KeyType leaf_key_type,
                uint64_t serial_base) {
  Chain c;
  c.root_key = MakeKey(KeyType::kEcP256);
  c.intermediate_key = MakeKey(KeyType::kEcP256);
  c.leaf_key = MakeKey(leaf_key_type);
  CertSpec root_spec;
  root_spec.common_name = "ers test root";
  root_spec.is_ca = true;
  root_spec.not_after_offset_s = 3650LL * 24 * 3600;
  root_spec.serial = serial_base;
  c.root = MakeCert(root_spec, c.root_key.get(), nullptr, c.root_key.get());
  CertSpec inter_spec;
  inter_spec.common_name = "ers test intermediate";
  inter_spec.is_ca = true;
  inter_spec.not_after_offset_s = 1825LL * 24 * 3600;
  inter_spec.serial = serial_base + 1;
  c.intermediate = MakeCert(inter_spec, c.intermediate_key.get(), c.root.get(),
                            c.root_key.get());
  CertSpec leaf_spec;
  leaf_spec.common_name = dns_name;
  leaf_spec.dns_names = {dns_name};
  leaf_spec.serial = serial_base + 2;
  c.leaf = MakeCert(leaf_spec, c.leaf_key.get(), c.intermediate.get(),
                    c.intermediate_key.get());
  return c;
}

bool WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return static_cast<bool>(out);
}

}  // namespace testpki
}  // namespace ers

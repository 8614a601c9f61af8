#include "enroll/key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

constexpr struct {
  EnrollKeyType type;
  const char* name;
} kKeyTypes[] = {
    {EnrollKeyType::kEcP256, "ec-p256"},
    {EnrollKeyType::kEcP384, "ec-p384"},
    {EnrollKeyType::kRsa2048, "rsa-2048"},
    {EnrollKeyType::kRsa3072, "rsa-3072"},
};

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> GenerateEc(int nid) {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(nid));
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!ec || !key || !EC_KEY_generate_key(ec.get()) ||
      !EVP_PKEY_assign_EC_KEY(key.get(), ec.release())) {
    return absl::InternalError("BoringSSL could not generate an EC key");
  }
  return key;
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> GenerateRsa(int bits) {
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!rsa || !e || !key || !BN_set_word(e.get(), RSA_F4) ||
      !RSA_generate_key_ex(rsa.get(), bits, e.get(), nullptr) ||
      !EVP_PKEY_assign_RSA(key.get(), rsa.release())) {
    return absl::InternalError("BoringSSL could not generate an RSA key");
  }
  return key;
}

}  // namespace

const char* EnrollKeyTypeName(EnrollKeyType type) {
  for (const auto& k : kKeyTypes) {
    if (k.type == type) return k.name;
  }
  return "unknown";
}

absl::StatusOr<EnrollKeyType> ParseEnrollKeyType(absl::string_view name) {
  for (const auto& k : kKeyTypes) {
    if (name == k.name) return k.type;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "key type \"", name, "\" is not one of ec-p256, ec-p384, rsa-2048, rsa-3072"));
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> GenerateKey(EnrollKeyType type) {
  switch (type) {
    case EnrollKeyType::kEcP256: return GenerateEc(NID_X9_62_prime256v1);
    case EnrollKeyType::kEcP384: return GenerateEc(NID_secp384r1);
    case EnrollKeyType::kRsa2048: return GenerateRsa(2048);
    case EnrollKeyType::kRsa3072: return GenerateRsa(3072);
  }
  return absl::InvalidArgumentError("unknown key type");
}

absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                             nullptr)) {
    return absl::InternalError("BoringSSL could not encode the private key");
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ReadPrivateKeyPem(absl::string_view pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
  bssl::UniquePtr<EVP_PKEY> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return absl::InvalidArgumentError("not a PEM private key");
  return key;
}

std::string DescribeKey(const EVP_PKEY* key) {
  switch (EVP_PKEY_id(key)) {
    case EVP_PKEY_RSA:
      return absl::StrCat("rsa-", EVP_PKEY_bits(key));
    case EVP_PKEY_EC: {
      const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
      const EC_GROUP* group = ec != nullptr ? EC_KEY_get0_group(ec) : nullptr;
      switch (group != nullptr ? EC_GROUP_get_curve_name(group) : 0) {
        case NID_X9_62_prime256v1: return "ec-p256";
        case NID_secp384r1: return "ec-p384";
        case NID_secp521r1: return "ec-p521";
        case NID_secp224r1: return "ec-p224";
        default: return "ec-unknown";
      }
    }
    case EVP_PKEY_ED25519:
      return "ed25519";
    default:
      return "unknown";
  }
}

}  // namespace ers

#include "clm/issuer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/encoding.h"
#include "enroll/key.h"

namespace ers {
namespace {

std::string Pem(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) return "";
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

// AddExtension adds |value| (the openssl configuration syntax) as extension
// |nid| of |cert|, issued by |ca|.
bool AddExtension(X509* cert, X509* ca, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Issuer>> Issuer::Load(const std::string& chain_pem,
                                                     const std::string& key_pem) {
  std::unique_ptr<Issuer> issuer(new Issuer());
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(chain_pem.data(), chain_pem.size()));
  issuer->ca_.reset(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!issuer->ca_) return absl::InvalidArgumentError("the issuing CA file holds no PEM certificate");
  issuer->chain_pem_ = Pem(issuer->ca_.get());
  while (bssl::UniquePtr<X509> next{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    issuer->chain_pem_ += Pem(next.get());
  }
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = ReadPrivateKeyPem(key_pem);
  if (!key.ok()) return absl::InvalidArgumentError("the issuing CA's key is not a PEM private key");
  issuer->key_ = *std::move(key);
  if (X509_check_private_key(issuer->ca_.get(), issuer->key_.get()) != 1) {
    return absl::InvalidArgumentError("the issuing CA's key is not its certificate's key");
  }
  if (X509_check_ca(issuer->ca_.get()) == 0 ||
      ((X509_get_extension_flags(issuer->ca_.get()) & EXFLAG_KUSAGE) &&
       !(X509_get_key_usage(issuer->ca_.get()) & KU_KEY_CERT_SIGN))) {
    return absl::InvalidArgumentError(
        "the issuing certificate is not a CA that may sign certificates (basicConstraints CA, "
        "keyCertSign)");
  }
  return issuer;
}

absl::StatusOr<IssuedCertificate> Issuer::Issue(const CsrInfo& csr, int days) const {
  if (days < 1) return absl::InvalidArgumentError("a certificate is valid for a day at least");
  bssl::UniquePtr<EVP_PKEY> key(X509_REQ_get_pubkey(csr.request.get()));
  bssl::UniquePtr<X509> cert(X509_new());
  bssl::UniquePtr<X509_NAME> subject(X509_NAME_new());
  uint8_t serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;  // positive
  serial_bytes[0] |= 0x01;  // and 16 bytes long
  bssl::UniquePtr<BIGNUM> serial_bn(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  time_t now = time(nullptr);
  const int64_t not_after = static_cast<int64_t>(now) + int64_t{days} * 86400;
  if (!key || !cert || !subject || !serial_bn || !X509_set_version(cert.get(), X509_VERSION_3) ||
      !BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) ||
      !X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_.get())) ||
      !X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -300, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &now) ||
      !X509_set_pubkey(cert.get(), key.get())) {
    return absl::InternalError("BoringSSL could not start the certificate");
  }
  const std::string& cn = csr.names.common_name.empty() ? NameStrings(csr.names)[0]
                                                        : csr.names.common_name;
  if (!X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>(cn.data()),
                                  static_cast<int>(cn.size()), -1, 0) ||
      !X509_set_subject_name(cert.get(), subject.get())) {
    return absl::InternalError("BoringSSL could not set the subject");
  }
  std::vector<std::string> sans;
  for (const std::string& dns : csr.names.dns) sans.push_back(absl::StrCat("DNS:", dns));
  for (const IpAddress& ip : csr.names.ips) sans.push_back(absl::StrCat("IP:", ip.ToString()));
  const bool rsa = EVP_PKEY_id(key.get()) == EVP_PKEY_RSA;
  if (!AddExtension(cert.get(), ca_.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), ca_.get(), NID_key_usage,
                    rsa ? "critical,digitalSignature,keyEncipherment"
                        : "critical,digitalSignature") ||
      !AddExtension(cert.get(), ca_.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), ca_.get(), NID_subject_key_identifier, "hash") ||
      !AddExtension(cert.get(), ca_.get(), NID_authority_key_identifier, "keyid:always") ||
      !AddExtension(cert.get(), ca_.get(), NID_subject_alt_name, absl::StrJoin(sans, ","))) {
    return absl::InternalError("BoringSSL could not add the certificate's extensions");
  }
  const EVP_MD* digest = EVP_PKEY_id(key_.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (!X509_sign(cert.get(), key_.get(), digest)) {
    return absl::InternalError("BoringSSL could not sign the certificate");
  }
  IssuedCertificate out;
  out.certificate_pem = Pem(cert.get());
  out.chain_pem = chain_pem_;
  out.serial_hex = HexEncode(std::string(reinterpret_cast<const char*>(serial_bytes),
                                         sizeof(serial_bytes)));
  out.not_after_unix = not_after;
  return out;
}

}  // namespace ers

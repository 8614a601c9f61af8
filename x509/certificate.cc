#include "x509/certificate.h"

#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/encoding.h"
#include "absl/strings/str_cat.h"

namespace ers {
namespace {

// Signed Certificate Timestamps embedded by the CA (RFC 6962, 3.3), and the
// TLS Feature extension (RFC 7633) that carries must-staple.
constexpr const char* kSctListOid = "1.3.6.1.4.1.11129.2.4.2";
constexpr const char* kTlsFeatureOid = "1.3.6.1.5.5.7.1.24";
constexpr int kTlsFeatureStatusRequest = 5;

std::string Utf8(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  unsigned char* out = nullptr;
  int len = ASN1_STRING_to_UTF8(&out, s);
  if (len < 0) {
    ERR_clear_error();
    return "";
  }
  std::string result(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return result;
}

std::string Attribute(const X509_NAME* name, int nid) {
  int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return "";
  return Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
}

std::string NameText(const X509_NAME* name) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (X509_NAME_print_ex(bio.get(), name, 0,
                         XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return "";
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string NameDer(const X509_NAME* name) {
  uint8_t* der = nullptr;
  int len = i2d_X509_NAME(const_cast<X509_NAME*>(name), &der);
  if (len < 0) {
    ERR_clear_error();
    return "";
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string HexDigest(const EVP_MD* md, const void* data, size_t len) {
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned out_len = 0;
  EVP_Digest(data, len, out, &out_len, md, nullptr);
  return HexEncode(absl::string_view(reinterpret_cast<char*>(out), out_len));
}

std::string ObjText(const ASN1_OBJECT* obj, bool prefer_names) {
  char buf[128];
  int len = OBJ_obj2txt(buf, sizeof(buf), obj, prefer_names ? 0 : 1);
  if (len < 0 || static_cast<size_t>(len) >= sizeof(buf)) return "";
  return buf;
}

std::string Octets(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string IpText(const ASN1_OCTET_STRING* ip) {
  const uint8_t* p = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  if (len == 4) return absl::StrCat(p[0], ".", p[1], ".", p[2], ".", p[3]);
  if (len == 16) {
    std::string out;
    for (int i = 0; i < 16; i += 2) {
      if (i > 0) out += ':';
      absl::StrAppend(&out, absl::Hex((p[i] << 8) | p[i + 1]));
    }
    return out;
  }
  return absl::StrCat("invalid(", len, " bytes)");
}

int64_t UnixTime(const ASN1_TIME* t) {
  static ASN1_TIME* const epoch = ASN1_TIME_set(nullptr, 0);
  int days = 0, seconds = 0;
  if (t == nullptr || !ASN1_TIME_diff(&days, &seconds, epoch, t)) {
    ERR_clear_error();
    return 0;
  }
  return int64_t{days} * 86400 + seconds;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return "";
  std::string hex = HexEncode(absl::string_view(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
      static_cast<size_t>(ASN1_STRING_length(serial))));
  return ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" + hex : hex;
}

Digest DigestOf(int signature_nid) {
  int digest_nid = NID_undef, pkey_nid = NID_undef;
  if (!OBJ_find_sigid_algs(signature_nid, &digest_nid, &pkey_nid)) {
    return signature_nid == NID_ED25519 ? Digest::kNone : Digest::kUnknown;
  }
  switch (digest_nid) {
    case NID_md5:
    case NID_md5_sha1:
      return Digest::kMd5;
    case NID_sha1:
      return Digest::kSha1;
    case NID_sha256:
      return Digest::kSha256;
    case NID_sha384:
      return Digest::kSha384;
    case NID_sha512:
      return Digest::kSha512;
    case NID_undef:
      return Digest::kNone;
    default:
      return Digest::kUnknown;
  }
}

void AddGeneralNames(const GENERAL_NAMES* names, Certificate* c) {
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    switch (gn->type) {
      case GEN_DNS:
        c->dns_names.push_back(Utf8(gn->d.dNSName));
        break;
      case GEN_IPADD:
        c->ip_addresses.push_back(IpText(gn->d.iPAddress));
        break;
      case GEN_EMAIL:
        c->emails.push_back(Utf8(gn->d.rfc822Name));
        break;
      case GEN_URI:
        c->uris.push_back(Utf8(gn->d.uniformResourceIdentifier));
        break;
      default:
        break;
    }
  }
}

// OidText returns the dotted text of the DER OBJECT IDENTIFIER |oid|, or
// "" if it is malformed.
std::string OidText(const CBS& oid) {
  char* text = CBS_asn1_oid_to_text(&oid);
  if (text == nullptr) return "";
  std::string result(text);
  OPENSSL_free(text);
  return result;
}

// BitLength returns the bit length of the positive DER INTEGER's content
// |n| (leading zero octets skipped).
int BitLength(CBS n) {
  while (CBS_len(&n) > 0 && CBS_data(&n)[0] == 0) CBS_skip(&n, 1);
  if (CBS_len(&n) == 0) return 0;
  int bits = static_cast<int>(CBS_len(&n) - 1) * 8;
  for (uint8_t top = CBS_data(&n)[0]; top != 0; top >>= 1) ++bits;
  return bits;
}

// ParseUnsupportedKey reads the algorithm, curve and size of a public key
// that BoringSSL will not parse (curves such as P-192 or brainpool, RSA
// moduli outside its limits, Ed448) from the SubjectPublicKeyInfo's DER,
// so that the analysis can still judge it.
void ParseUnsupportedKey(X509* x509, Certificate* c) {
  c->key_supported = false;
  uint8_t* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509), &der);
  if (len <= 0) {
    ERR_clear_error();
    return;
  }
  bssl::UniquePtr<uint8_t> owned(der);
  CBS cbs, spki, algorithm, oid, key;
  uint8_t unused_bits = 0;
  CBS_init(&cbs, der, static_cast<size_t>(len));
  if (!CBS_get_asn1(&cbs, &spki, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&spki, &algorithm, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&algorithm, &oid, CBS_ASN1_OBJECT) ||
      !CBS_get_asn1(&spki, &key, CBS_ASN1_BITSTRING) || !CBS_get_u8(&key, &unused_bits)) {
    return;
  }
  const std::string algorithm_oid = OidText(oid);
  if (algorithm_oid == "1.2.840.10045.2.1") {  // id-ecPublicKey
    c->key_type = KeyType::kEc;
    c->key_curve = "other";
    CBS curve;
    if (!CBS_get_asn1(&algorithm, &curve, CBS_ASN1_OBJECT)) return;  // explicit parameters
    struct NamedCurve {
      const char* oid;
      const char* name;
      int bits;
    };
    static constexpr NamedCurve kCurves[] = {
        {"1.2.840.10045.3.1.1", "P-192", 192},
        {"1.3.132.0.33", "P-224", 224},
        {"1.3.132.0.10", "secp256k1", 256},
        {"1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", 256},
        {"1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", 384},
        {"1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", 512},
    };
    const std::string curve_oid = OidText(curve);
    for (const NamedCurve& known : kCurves) {
      if (curve_oid == known.oid) {
        c->key_curve = known.name;
        c->key_bits = known.bits;
      }
    }
    if (c->key_bits == 0) c->key_curve = absl::StrCat("other (", curve_oid, ")");
  } else if (algorithm_oid == "1.2.840.113549.1.1.1" ||   // rsaEncryption
             algorithm_oid == "1.2.840.113549.1.1.10") {  // RSASSA-PSS
    c->key_type = KeyType::kRsa;
    CBS rsa, modulus;
    if (CBS_get_asn1(&key, &rsa, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1(&rsa, &modulus, CBS_ASN1_INTEGER)) {
      c->key_bits = BitLength(modulus);
    }
  } else if (algorithm_oid == "1.3.101.113") {  // Ed448
    c->key_curve = "Ed448";
    c->key_bits = 448;
  } else {
    c->key_curve = algorithm_oid;
  }
}

void ParseKey(X509* x509, Certificate* c) {
  bssl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(x509));
  if (!key) {
    ERR_clear_error();
    ParseUnsupportedKey(x509, c);
    return;
  }
  switch (EVP_PKEY_id(key.get())) {
    case EVP_PKEY_RSA:
      c->key_type = KeyType::kRsa;
      c->key_bits = EVP_PKEY_bits(key.get());
      break;
    case EVP_PKEY_EC: {
      c->key_type = KeyType::kEc;
      c->key_bits = EVP_PKEY_bits(key.get());
      const EC_GROUP* group = EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(key.get()));
      switch (group != nullptr ? EC_GROUP_get_curve_name(group) : NID_undef) {
        case NID_X9_62_prime256v1:
          c->key_curve = "P-256";
          break;
        case NID_secp384r1:
          c->key_curve = "P-384";
          break;
        case NID_secp521r1:
          c->key_curve = "P-521";
          break;
        case NID_secp224r1:
          c->key_curve = "P-224";
          break;
        default:
          c->key_curve = "other";
      }
      break;
    }
    case EVP_PKEY_ED25519:
      c->key_type = KeyType::kEd25519;
      c->key_bits = 256;
      break;
    case EVP_PKEY_DSA:
      c->key_type = KeyType::kDsa;
      c->key_bits = EVP_PKEY_bits(key.get());
      break;
    default:
      c->key_type = KeyType::kUnknown;
  }
}

void ParseExtensions(X509* x509, Certificate* c) {
  int crit = 0;
  if (auto* names = static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(x509, NID_subject_alt_name, &crit, nullptr))) {
    AddGeneralNames(names, c);
    GENERAL_NAMES_free(names);
  }
  if (auto* bc = static_cast<BASIC_CONSTRAINTS*>(
          X509_get_ext_d2i(x509, NID_basic_constraints, &crit, nullptr))) {
    c->has_basic_constraints = true;
    c->is_ca = bc->ca != 0;
    c->path_len = static_cast<int>(X509_get_pathlen(x509));
    BASIC_CONSTRAINTS_free(bc);
  }
  if (auto* ku = static_cast<ASN1_BIT_STRING*>(
          X509_get_ext_d2i(x509, NID_key_usage, &crit, nullptr))) {
    static const char* const kBits[] = {
        "digitalSignature", "nonRepudiation", "keyEncipherment",
        "dataEncipherment", "keyAgreement",   "keyCertSign",
        "cRLSign",          "encipherOnly",   "decipherOnly"};
    for (int bit = 0; bit < 9; ++bit) {
      if (ASN1_BIT_STRING_get_bit(ku, bit)) c->key_usage.push_back(kBits[bit]);
    }
    ASN1_BIT_STRING_free(ku);
  }
  if (auto* eku = static_cast<EXTENDED_KEY_USAGE*>(
          X509_get_ext_d2i(x509, NID_ext_key_usage, &crit, nullptr))) {
    for (size_t i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
      const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku, i);
      int nid = OBJ_obj2nid(obj);
      c->extended_key_usage.push_back(nid != NID_undef ? OBJ_nid2sn(nid)
                                                       : ObjText(obj, false));
    }
    EXTENDED_KEY_USAGE_free(eku);
  }
  if (auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(
          X509_get_ext_d2i(x509, NID_info_access, &crit, nullptr))) {
    for (size_t i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
      const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia, i);
      if (ad->location->type != GEN_URI) continue;
      std::string url = Utf8(ad->location->d.uniformResourceIdentifier);
      int method = OBJ_obj2nid(ad->method);
      if (method == NID_ad_OCSP) c->ocsp_urls.push_back(url);
      if (method == NID_ad_ca_issuers) c->ca_issuer_urls.push_back(url);
    }
    AUTHORITY_INFO_ACCESS_free(aia);
  }
  if (auto* dps = static_cast<CRL_DIST_POINTS*>(
          X509_get_ext_d2i(x509, NID_crl_distribution_points, &crit, nullptr))) {
    for (size_t i = 0; i < sk_DIST_POINT_num(dps); ++i) {
      const DIST_POINT* dp = sk_DIST_POINT_value(dps, i);
      if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;
      const GENERAL_NAMES* names = dp->distpoint->name.fullname;
      for (size_t j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
        if (gn->type == GEN_URI) {
          c->crl_urls.push_back(Utf8(gn->d.uniformResourceIdentifier));
        }
      }
    }
    CRL_DIST_POINTS_free(dps);
  }
  if (auto* policies = static_cast<CERTIFICATEPOLICIES*>(
          X509_get_ext_d2i(x509, NID_certificate_policies, &crit, nullptr))) {
    for (size_t i = 0; i < sk_POLICYINFO_num(policies); ++i) {
      c->policy_oids.push_back(
          ObjText(sk_POLICYINFO_value(policies, i)->policyid, false));
    }
    CERTIFICATEPOLICIES_free(policies);
  }
  ERR_clear_error();  // an undecodable extension is simply absent

  c->subject_key_id = Octets(X509_get0_subject_key_id(x509));
  c->authority_key_id = Octets(X509_get0_authority_key_id(x509));

  // Embedded SCTs: an OCTET STRING wrapping a TLS-encoded list.
  static ASN1_OBJECT* const sct_oid = OBJ_txt2obj(kSctListOid, 1);
  int index = X509_get_ext_by_OBJ(x509, sct_oid, -1);
  if (index >= 0) {
    const ASN1_OCTET_STRING* value =
        X509_EXTENSION_get_data(X509_get_ext(x509, index));
    CBS cbs, inner, list, sct;
    CBS_init(&cbs, ASN1_STRING_get0_data(value),
             static_cast<size_t>(ASN1_STRING_length(value)));
    if (CBS_get_asn1(&cbs, &inner, CBS_ASN1_OCTETSTRING) &&
        CBS_get_u16_length_prefixed(&inner, &list)) {
      while (CBS_len(&list) > 0 && CBS_get_u16_length_prefixed(&list, &sct)) {
        ++c->embedded_sct_count;
      }
    }
  }
  // Must-staple: TLS Feature with status_request.
  static ASN1_OBJECT* const feature_oid = OBJ_txt2obj(kTlsFeatureOid, 1);
  index = X509_get_ext_by_OBJ(x509, feature_oid, -1);
  if (index >= 0) {
    const ASN1_OCTET_STRING* value =
        X509_EXTENSION_get_data(X509_get_ext(x509, index));
    CBS cbs, seq;
    CBS_init(&cbs, ASN1_STRING_get0_data(value),
             static_cast<size_t>(ASN1_STRING_length(value)));
    uint64_t feature = 0;
    if (CBS_get_asn1(&cbs, &seq, CBS_ASN1_SEQUENCE)) {
      while (CBS_len(&seq) > 0 && CBS_get_asn1_uint64(&seq, &feature)) {
        if (feature == kTlsFeatureStatusRequest) c->must_staple = true;
      }
    }
  }
}

}  // namespace

const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kRsa:
      return "RSA";
    case KeyType::kEc:
      return "EC";
    case KeyType::kEd25519:
      return "Ed25519";
    case KeyType::kDsa:
      return "DSA";
    case KeyType::kUnknown:
      break;
  }
  return "unknown";
}

const char* DigestName(Digest d) {
  switch (d) {
    case Digest::kMd5:
      return "MD5";
    case Digest::kSha1:
      return "SHA-1";
    case Digest::kSha256:
      return "SHA-256";
    case Digest::kSha384:
      return "SHA-384";
    case Digest::kSha512:
      return "SHA-512";
    case Digest::kNone:
      return "none";
    case Digest::kUnknown:
      break;
  }
  return "unknown";
}

absl::StatusOr<Certificate> ParseCertificate(absl::string_view der,
                                             bssl::UniquePtr<X509>* out_x509) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(der.data());
  bssl::UniquePtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) {
    uint32_t err = ERR_get_error();
    ERR_clear_error();
    const char* reason = ERR_reason_error_string(err);
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed certificate (", der.size(),
        " bytes): ", reason != nullptr ? reason : "not DER X.509"));
  }
  if (p != reinterpret_cast<const uint8_t*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError("malformed certificate: trailing data");
  }
  Certificate c;
  c.der = std::string(der);
  const X509_NAME* subject = X509_get_subject_name(x509.get());
  const X509_NAME* issuer = X509_get_issuer_name(x509.get());
  c.subject = NameText(subject);
  c.subject_cn = Attribute(subject, NID_commonName);
  c.subject_org = Attribute(subject, NID_organizationName);
  c.issuer = NameText(issuer);
  c.issuer_cn = Attribute(issuer, NID_commonName);
  c.issuer_org = Attribute(issuer, NID_organizationName);
  c.subject_der = NameDer(subject);
  c.issuer_der = NameDer(issuer);
  c.serial_hex = SerialHex(X509_get0_serialNumber(x509.get()));
  c.not_before_unix = UnixTime(X509_get0_notBefore(x509.get()));
  c.not_after_unix = UnixTime(X509_get0_notAfter(x509.get()));
  ParseKey(x509.get(), &c);
  const int sig_nid = X509_get_signature_nid(x509.get());
  c.signature_algorithm = sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : "unknown";
  c.signature_digest = DigestOf(sig_nid);
  ParseExtensions(x509.get(), &c);
  c.sha256_hex = HexDigest(EVP_sha256(), der.data(), der.size());
  c.sha1_hex = HexDigest(EVP_sha1(), der.data(), der.size());
  uint8_t* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509.get()), &spki);
  if (spki_len > 0) {
    c.spki_sha256_hex = HexDigest(EVP_sha256(), spki, static_cast<size_t>(spki_len));
    OPENSSL_free(spki);
  }
  c.self_issued = c.subject_der == c.issuer_der;
  if (c.self_issued) {
    bssl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(x509.get()));
    c.self_signed = key && X509_verify(x509.get(), key.get()) == 1;
  }
  ERR_clear_error();
  if (out_x509 != nullptr) *out_x509 = std::move(x509);
  return c;
}

}  // namespace ers

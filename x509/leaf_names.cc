#include "x509/leaf_names.h"

#include <openssl/bytestring.h>

namespace ers {
namespace {

// DER of the OIDs read here (contents only).
constexpr uint8_t kSubjectAltName[] = {0x55, 0x1d, 0x11};  // 2.5.29.17
constexpr uint8_t kCommonName[] = {0x55, 0x04, 0x03};      // 2.5.4.3

bool OidIs(const CBS& oid, const uint8_t* want, size_t len) {
  return CBS_len(&oid) == len && CBS_mem_equal(&oid, want, len);
}

std::string Text(const CBS& cbs) {
  return std::string(reinterpret_cast<const char*>(CBS_data(&cbs)), CBS_len(&cbs));
}

// ReadCommonName returns the last CN of the Name |name| whose value is a
// string type holding ASCII ("" if none).
std::string ReadCommonName(CBS name) {
  std::string cn;
  while (CBS_len(&name) > 0) {
    CBS rdn;
    if (!CBS_get_asn1(&name, &rdn, CBS_ASN1_SET)) return "";
    while (CBS_len(&rdn) > 0) {
      CBS attribute, oid, value;
      unsigned tag = 0;
      if (!CBS_get_asn1(&rdn, &attribute, CBS_ASN1_SEQUENCE) ||
          !CBS_get_asn1(&attribute, &oid, CBS_ASN1_OBJECT) ||
          !CBS_get_any_asn1(&attribute, &value, &tag)) {
        return "";
      }
      if (OidIs(oid, kCommonName, sizeof(kCommonName)) &&
          (tag == CBS_ASN1_UTF8STRING || tag == CBS_ASN1_PRINTABLESTRING ||
           tag == CBS_ASN1_IA5STRING || tag == CBS_ASN1_T61STRING)) {
        cn = Text(value);
      }
    }
  }
  return cn;
}

}  // namespace

CertificateNames ReadCertificateNames(absl::string_view der, size_t max_names) {
  CertificateNames out;
  CBS cbs, certificate, tbs, name;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(der.data()), der.size());
  // Certificate: tbsCertificate, signatureAlgorithm, signature. TBS: version
  // [0] (optional), serial, signature, issuer, validity, subject, spki,
  // issuerUniqueID [1], subjectUniqueID [2], extensions [3].
  if (!CBS_get_asn1(&cbs, &certificate, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&certificate, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(&tbs, nullptr, nullptr,
                             CBS_ASN1_CONSTRUCTED | CBS_ASN1_CONTEXT_SPECIFIC | 0) ||
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_INTEGER) ||
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, &name, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(&tbs, nullptr, nullptr, CBS_ASN1_CONTEXT_SPECIFIC | 1) ||
      !CBS_get_optional_asn1(&tbs, nullptr, nullptr, CBS_ASN1_CONTEXT_SPECIFIC | 2)) {
    return out;
  }
  out.common_name = ReadCommonName(name);
  CBS wrapper, extensions;
  int present = 0;
  if (!CBS_get_optional_asn1(&tbs, &wrapper, &present,
                             CBS_ASN1_CONSTRUCTED | CBS_ASN1_CONTEXT_SPECIFIC | 3) ||
      !present || !CBS_get_asn1(&wrapper, &extensions, CBS_ASN1_SEQUENCE)) {
    return out;
  }
  while (CBS_len(&extensions) > 0) {
    CBS extension, oid, value;
    if (!CBS_get_asn1(&extensions, &extension, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&extension, &oid, CBS_ASN1_OBJECT) ||
        !CBS_get_optional_asn1(&extension, nullptr, nullptr, CBS_ASN1_BOOLEAN) ||
        !CBS_get_asn1(&extension, &value, CBS_ASN1_OCTETSTRING)) {
      break;
    }
    if (!OidIs(oid, kSubjectAltName, sizeof(kSubjectAltName))) continue;
    CBS names;
    if (!CBS_get_asn1(&value, &names, CBS_ASN1_SEQUENCE)) break;
    while (CBS_len(&names) > 0 && out.dns_names.size() < max_names) {
      CBS general_name;
      unsigned tag = 0;
      if (!CBS_get_any_asn1(&names, &general_name, &tag)) break;
      if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 2)) out.dns_names.push_back(Text(general_name));
    }
    break;
  }
  return out;
}

}  // namespace ers

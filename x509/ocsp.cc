#include "x509/ocsp.h"

#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/obj.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

constexpr int64_t kSkew = 300;
constexpr int64_t kFreshWithoutNextUpdate = 4 * 86400;
// id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1
constexpr uint8_t kOcspBasic[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};

// GeneralizedTime as RFC 5280 requires it: YYYYMMDDHHMMSSZ.
bool ParseTime(CBS* cbs, int64_t* out) {
  CBS t;
  if (!CBS_get_asn1(cbs, &t, CBS_ASN1_GENERALIZEDTIME) || CBS_len(&t) != 15 ||
      CBS_data(&t)[14] != 'Z') {
    return false;
  }
  int v[6];
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  const uint8_t* p = CBS_data(&t);
  for (int i = 0; i < 6; ++i) {
    v[i] = 0;
    for (int k = 0; k < widths[i]; ++k, ++p) {
      if (*p < '0' || *p > '9') return false;
      v[i] = v[i] * 10 + (*p - '0');
    }
  }
  struct tm tm = {};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60) {
    return false;
  }
  *out = static_cast<int64_t>(timegm(&tm));
  return true;
}

std::string View(const CBS& c) {
  return std::string(reinterpret_cast<const char*>(CBS_data(&c)), CBS_len(&c));
}

std::string Digest(const EVP_MD* md, absl::string_view data) {
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Der(const X509_NAME* name) {
  uint8_t* der = nullptr;
  const int len = i2d_X509_NAME(const_cast<X509_NAME*>(name), &der);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// KeyBits: the subjectPublicKey BIT STRING's contents, which OCSP hashes.
std::string KeyBits(X509* cert) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert);
  if (bits == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(bits)),
                     static_cast<size_t>(ASN1_STRING_length(bits)));
}

// Serial: the serial number as the contents of a DER INTEGER (what a
// certificate ID carries): the magnitude, with a zero octet in front when
// its top bit is set.
std::string Serial(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  std::string out(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
                  static_cast<size_t>(ASN1_STRING_length(serial)));
  if (!out.empty() && (static_cast<uint8_t>(out[0]) & 0x80)) out.insert(out.begin(), '\0');
  return out;
}

// VerifySignature checks |signature| over |tbs| under |key| with the
// algorithm |alg| (an AlgorithmIdentifier's contents).
bool VerifySignature(CBS alg, const CBS& tbs, const CBS& signature, EVP_PKEY* key) {
  CBS oid;
  if (!CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT)) return false;
  int digest_nid = NID_undef, pkey_nid = NID_undef;
  const int sig_nid = OBJ_cbs2nid(&oid);
  if (sig_nid == NID_undef || !OBJ_find_sigid_algs(sig_nid, &digest_nid, &pkey_nid)) return false;
  const EVP_MD* md = digest_nid == NID_undef ? nullptr : EVP_get_digestbynid(digest_nid);
  if (digest_nid != NID_undef && md == nullptr) return false;
  bssl::ScopedEVP_MD_CTX ctx;
  if (!EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key)) return false;
  return EVP_DigestVerify(ctx.get(), CBS_data(&signature), CBS_len(&signature), CBS_data(&tbs),
                          CBS_len(&tbs)) == 1;
}

struct Parsed {
  CBS tbs;        // ResponseData, whole element
  CBS sig_alg;    // AlgorithmIdentifier contents
  CBS signature;  // without the unused-bits octet
  std::vector<bssl::UniquePtr<X509>> certs;
  bool by_key = false;
  CBS responder;  // a Name element, or the key hash's octets
  CBS responses;  // SEQUENCE OF SingleResponse contents
};

std::string ParseResponse(absl::string_view der, Parsed* out) {
  CBS in, response, bytes, type, octets, basic, data;
  CBS_init(&in, reinterpret_cast<const uint8_t*>(der.data()), der.size());
  uint64_t status = 0;
  CBS status_cbs;
  if (!CBS_get_asn1(&in, &response, CBS_ASN1_SEQUENCE) || CBS_len(&in) != 0 ||
      !CBS_get_asn1(&response, &status_cbs, CBS_ASN1_ENUMERATED) || CBS_len(&status_cbs) != 1) {
    return "not an OCSP response";
  }
  status = CBS_data(&status_cbs)[0];
  if (status != 0) return absl::StrCat("the responder answered with status ", status, " (not successful)");
  if (!CBS_get_asn1(&response, &bytes, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      !CBS_get_asn1(&bytes, &bytes, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&bytes, &type, CBS_ASN1_OBJECT) ||
      !CBS_get_asn1(&bytes, &octets, CBS_ASN1_OCTETSTRING)) {
    return "a malformed OCSP response";
  }
  if (!CBS_mem_equal(&type, kOcspBasic, sizeof(kOcspBasic))) return "not a basic OCSP response";
  if (!CBS_get_asn1(&octets, &basic, CBS_ASN1_SEQUENCE) || CBS_len(&octets) != 0 ||
      !CBS_get_asn1_element(&basic, &out->tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &out->sig_alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &out->signature, CBS_ASN1_BITSTRING) ||
      CBS_len(&out->signature) < 1 || CBS_data(&out->signature)[0] != 0) {
    return "a malformed basic OCSP response";
  }
  CBS_skip(&out->signature, 1);
  int present = 0;
  CBS certs;
  if (!CBS_get_optional_asn1(&basic, &certs, &present,
                             CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0)) {
    return "a malformed certificate list";
  }
  if (present) {
    CBS list;
    if (!CBS_get_asn1(&certs, &list, CBS_ASN1_SEQUENCE)) return "a malformed certificate list";
    while (CBS_len(&list) > 0 && out->certs.size() < 8) {
      CBS cert;
      if (!CBS_get_asn1_element(&list, &cert, CBS_ASN1_SEQUENCE)) return "a malformed certificate";
      const uint8_t* p = CBS_data(&cert);
      bssl::UniquePtr<X509> x(d2i_X509(nullptr, &p, static_cast<long>(CBS_len(&cert))));
      if (!x) return "a responder certificate that does not parse";
      out->certs.push_back(std::move(x));
    }
  }
  CBS tbs = out->tbs;
  if (!CBS_get_asn1(&tbs, &data, CBS_ASN1_SEQUENCE)) return "malformed response data";
  CBS version;
  if (!CBS_get_optional_asn1(&data, &version, &present,
                             CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0)) {
    return "malformed response data";
  }
  CBS id;
  if (CBS_get_asn1(&data, &id, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1)) {
    if (!CBS_get_asn1_element(&id, &out->responder, CBS_ASN1_SEQUENCE)) return "a malformed responder";
  } else if (CBS_get_asn1(&data, &id, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2)) {
    out->by_key = true;
    if (!CBS_get_asn1(&id, &out->responder, CBS_ASN1_OCTETSTRING)) return "a malformed responder";
  } else {
    return "no responder ID";
  }
  int64_t produced = 0;
  if (!ParseTime(&data, &produced) ||
      !CBS_get_asn1(&data, &out->responses, CBS_ASN1_SEQUENCE)) {
    return "malformed response data";
  }
  return "";
}

}  // namespace

std::string OcspRequestFor(X509* leaf, X509* issuer) {
  const std::string name_hash = Digest(EVP_sha1(), Der(X509_get_subject_name(issuer)));
  const std::string key_hash = Digest(EVP_sha1(), KeyBits(issuer));
  const std::string serial = Serial(leaf);
  // id-sha1, 1.3.14.3.2.26
  static constexpr uint8_t kSha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
  bssl::ScopedCBB cbb;
  CBB request, tbs, list, one, cert_id, alg, oid, value;
  auto bytes = [](CBB* parent, unsigned tag, const std::string& data) {
    CBB child;
    return CBB_add_asn1(parent, &child, tag) &&
           CBB_add_bytes(&child, reinterpret_cast<const uint8_t*>(data.data()), data.size()) &&
           CBB_flush(parent);
  };
  if (serial.empty() || !CBB_init(cbb.get(), 128) ||
      !CBB_add_asn1(cbb.get(), &request, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&request, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&tbs, &list, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&list, &one, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&one, &cert_id, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&cert_id, &alg, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) || !CBB_add_bytes(&oid, kSha1, sizeof(kSha1)) ||
      !CBB_add_asn1(&alg, &value, CBS_ASN1_NULL) || !CBB_flush(&cert_id) ||
      !bytes(&cert_id, CBS_ASN1_OCTETSTRING, name_hash) ||
      !bytes(&cert_id, CBS_ASN1_OCTETSTRING, key_hash) ||
      !bytes(&cert_id, CBS_ASN1_INTEGER, serial)) {
    return "";
  }
  uint8_t* out = nullptr;
  size_t len = 0;
  if (!CBB_finish(cbb.get(), &out, &len)) return "";
  std::string der(reinterpret_cast<char*>(out), len);
  OPENSSL_free(out);
  return der;
}

const char* OcspStatusName(OcspStatus s) {
  switch (s) {
    case OcspStatus::kGood:
      return "good";
    case OcspStatus::kRevoked:
      return "revoked";
    case OcspStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

OcspVerdict CheckOcspResponse(absl::string_view der, X509* leaf, X509* issuer, int64_t now_unix) {
  OcspVerdict v;
  auto fail = [&](std::string why) {
    v.valid = false;
    v.problem = std::move(why);
    ERR_clear_error();
    return v;
  };
  Parsed p;
  if (std::string why = ParseResponse(der, &p); !why.empty()) return fail(why);

  // The single response about the leaf.
  const std::string issuer_name = Der(X509_get_subject_name(issuer));
  const std::string issuer_key = KeyBits(issuer);
  const std::string serial = Serial(leaf);
  CBS responses = p.responses;
  bool found = false;
  while (CBS_len(&responses) > 0 && !found) {
    CBS single, cert_id, alg, oid, name_hash, key_hash, serial_cbs;
    if (!CBS_get_asn1(&responses, &single, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&single, &cert_id, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&cert_id, &alg, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
        !CBS_get_asn1(&cert_id, &name_hash, CBS_ASN1_OCTETSTRING) ||
        !CBS_get_asn1(&cert_id, &key_hash, CBS_ASN1_OCTETSTRING) ||
        !CBS_get_asn1(&cert_id, &serial_cbs, CBS_ASN1_INTEGER)) {
      return fail("a malformed single response");
    }
    const EVP_MD* md = EVP_get_digestbynid(OBJ_cbs2nid(&oid));
    if (md == nullptr) continue;
    if (View(name_hash) != Digest(md, issuer_name) || View(key_hash) != Digest(md, issuer_key) ||
        View(serial_cbs) != serial) {
      continue;
    }
    found = true;
    CBS status;
    unsigned tag = 0;
    if (!CBS_get_any_asn1(&single, &status, &tag)) return fail("a malformed certificate status");
    if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 0)) {
      v.status = OcspStatus::kGood;
    } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1)) {
      v.status = OcspStatus::kRevoked;
      if (!ParseTime(&status, &v.revoked_at)) return fail("a malformed revocation time");
      CBS reason;
      int has_reason = 0;
      if (CBS_get_optional_asn1(&status, &reason, &has_reason,
                                CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
          has_reason) {
        CBS value;
        if (CBS_get_asn1(&reason, &value, CBS_ASN1_ENUMERATED) && CBS_len(&value) == 1) {
          v.revocation_reason = CBS_data(&value)[0];
        }
      }
    } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 2)) {
      v.status = OcspStatus::kUnknown;
    } else {
      return fail("a malformed certificate status");
    }
    if (!ParseTime(&single, &v.this_update)) return fail("a malformed thisUpdate");
    CBS next;
    int has_next = 0;
    if (!CBS_get_optional_asn1(&single, &next, &has_next,
                               CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0)) {
      return fail("a malformed nextUpdate");
    }
    if (has_next && !ParseTime(&next, &v.next_update)) return fail("a malformed nextUpdate");
  }
  if (!found) return fail("the response is not about this certificate (no matching certificate ID)");

  // The signer: the issuer itself, or a responder it delegated to.
  auto names_signer = [&](X509* cert) {
    if (p.by_key) return View(p.responder) == Digest(EVP_sha1(), KeyBits(cert));
    return View(p.responder) == Der(X509_get_subject_name(cert));
  };
  X509* signer = nullptr;
  if (names_signer(issuer)) {
    signer = issuer;
  } else {
    for (auto& cert : p.certs) {
      if (!names_signer(cert.get())) continue;
      bssl::UniquePtr<EVP_PKEY> issuer_pkey(X509_get_pubkey(issuer));
      if (!issuer_pkey || X509_verify(cert.get(), issuer_pkey.get()) != 1) {
        return fail("the responder's certificate is not issued by the leaf's issuer");
      }
      if (!(X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE) ||
          !(X509_get_extended_key_usage(cert.get()) & XKU_OCSP_SIGN)) {
        return fail("the responder's certificate is not authorised for OCSP signing");
      }
      time_t now = static_cast<time_t>(now_unix);
      if (X509_cmp_time(X509_get0_notAfter(cert.get()), &now) < 0 ||
          X509_cmp_time(X509_get0_notBefore(cert.get()), &now) > 0) {
        return fail("the responder's certificate is outside its validity");
      }
      signer = cert.get();
      break;
    }
  }
  if (signer == nullptr) return fail("signed by a responder that is neither the issuer nor delegated by it");
  bssl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(signer));
  if (!key || !VerifySignature(p.sig_alg, p.tbs, p.signature, key.get())) {
    return fail("the response's signature does not verify");
  }

  // Freshness.
  if (v.this_update > now_unix + kSkew) return fail("thisUpdate is in the future");
  const int64_t until = v.next_update != 0 ? v.next_update : v.this_update + kFreshWithoutNextUpdate;
  if (now_unix > until + kSkew) {
    return fail(absl::StrCat("stale: valid until ", until, " (Unix time), ",
                             (now_unix - until) / 3600, " hours ago"));
  }
  v.valid = true;
  ERR_clear_error();
  return v;
}

}  // namespace ers

#include "x509/crl.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

constexpr int64_t kSkew = 300;

int64_t Posix(const ASN1_TIME* t) {
  int days = 0, seconds = 0;
  bssl::UniquePtr<ASN1_TIME> epoch(ASN1_TIME_set(nullptr, 0));
  if (!epoch || !ASN1_TIME_diff(&days, &seconds, epoch.get(), t)) return 0;
  return static_cast<int64_t>(days) * 86400 + seconds;
}

}  // namespace

CrlVerdict CheckCrl(absl::string_view der, X509* cert, X509* issuer, int64_t now_unix) {
  CrlVerdict v;
  auto fail = [&](std::string why) {
    v.valid = false;
    v.problem = std::move(why);
    ERR_clear_error();
    return v;
  };
  const uint8_t* p = reinterpret_cast<const uint8_t*>(der.data());
  bssl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl || p != reinterpret_cast<const uint8_t*>(der.data()) + der.size()) {
    ERR_clear_error();
    return v;  // not a CRL: it applies to nothing
  }
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0 ||
      X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0) {
    ERR_clear_error();
    return v;
  }
  v.applies = true;
  if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
      !(X509_get_key_usage(issuer) & KU_CRL_SIGN)) {
    return fail("the issuer's key usage does not allow signing CRLs");
  }
  bssl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(issuer));
  if (!key || X509_CRL_verify(crl.get(), key.get()) != 1) {
    return fail("the CRL's signature does not verify");
  }
  const int number = X509_CRL_get_ext_by_NID(crl.get(), NID_crl_number, -1);
  if (number < 0) return fail("the CRL has no CRL number (RFC 5280 5.2.3)");
  if (X509_EXTENSION_get_critical(X509_CRL_get_ext(crl.get(), number))) {
    return fail("the CRL number is marked critical (RFC 5280 5.2.3)");
  }
  for (int i = 0; i < X509_CRL_get_ext_count(crl.get()); ++i) {
    X509_EXTENSION* ext = X509_CRL_get_ext(crl.get(), i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (X509_EXTENSION_get_critical(ext) && nid != NID_issuing_distribution_point) {
      return fail(absl::StrCat("a critical CRL extension ers does not support (",
                               nid == NID_undef ? "unknown" : OBJ_nid2sn(nid), ")"));
    }
  }
  time_t now = static_cast<time_t>(now_unix + kSkew);
  if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl.get()), &now) > 0) {
    return fail("the CRL's thisUpdate is in the future");
  }
  now = static_cast<time_t>(now_unix - kSkew);
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
  if (next != nullptr && X509_cmp_time(next, &now) < 0) {
    return fail(absl::StrCat("the CRL is stale: its nextUpdate passed ",
                             (now_unix - Posix(next)) / 3600, " hours ago"));
  }
  v.valid = true;
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_serial(crl.get(), &entry,
                              const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert))) == 1 &&
      entry != nullptr) {
    v.revoked = true;
    v.revoked_at = Posix(X509_REVOKED_get0_revocationDate(entry));
  }
  ERR_clear_error();
  return v;
}

}  // namespace ers

#include "x509/trust_store.h"

#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>

#include "base/digest.h"
#include "absl/strings/str_cat.h"

namespace ers {

std::string Sha256Hex(X509* cert) {
  uint8_t* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len < 0) return "";
  std::string hex = Sha256Hex(
      absl::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  return hex;
}

absl::Status ParsePemCertificates(absl::string_view pem,
                                  absl::string_view source,
                                  std::vector<bssl::UniquePtr<X509>>* out) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
  size_t count = 0;
  while (true) {
    bssl::UniquePtr<X509> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      uint32_t err = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM &&
          ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        break;  // no more certificates
      }
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": certificate ", count + 1, " is malformed"));
    }
    out->push_back(std::move(cert));
    ++count;
  }
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no PEM certificate found"));
  }
  return absl::OkStatus();
}

absl::Status TrustStore::Add(bssl::UniquePtr<X509> x509, bool root, bool is_public) {
  uint8_t* der = nullptr;
  const int len = i2d_X509(x509.get(), &der);
  if (len < 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError("a certificate that cannot be encoded");
  }
  absl::StatusOr<Certificate> cert =
      ParseCertificate(absl::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  if (!cert.ok()) return cert.status();
  const std::string sha = cert->sha256_hex;
  if (root && is_public) public_roots_.insert(sha);
  auto& seen = root ? roots_by_sha_ : intermediates_by_sha_;
  if (!seen.insert(sha).second) return absl::OkStatus();
  auto& certs = root ? roots_ : intermediates_;
  auto& index = root ? roots_by_subject_ : intermediates_by_subject_;
  index[cert->subject_der].push_back(certs.size());
  certs.push_back(std::make_unique<TrustedCertificate>(
      TrustedCertificate{*std::move(cert), std::move(x509)}));
  return absl::OkStatus();
}

absl::Status TrustStore::AddRootsPem(absl::string_view pem, absl::string_view source,
                                     bool is_public) {
  std::vector<bssl::UniquePtr<X509>> certs;
  absl::Status s = ParsePemCertificates(pem, source, &certs);
  for (size_t i = 0; s.ok() && i < certs.size(); ++i) {
    s = Add(std::move(certs[i]), /*root=*/true, is_public);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": certificate ", i + 1, ": ", s.message()));
    }
  }
  return s;
}

absl::Status TrustStore::AddRootDer(absl::string_view der, bool is_public) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(der.data());
  bssl::UniquePtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) {
    ERR_clear_error();
    return absl::InvalidArgumentError("a malformed root certificate");
  }
  return Add(std::move(x509), /*root=*/true, is_public);
}

absl::Status TrustStore::AddIntermediatesPem(absl::string_view pem, absl::string_view source) {
  std::vector<bssl::UniquePtr<X509>> certs;
  absl::Status s = ParsePemCertificates(pem, source, &certs);
  for (size_t i = 0; s.ok() && i < certs.size(); ++i) {
    s = Add(std::move(certs[i]), /*root=*/false, false);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": certificate ", i + 1, ": ", s.message()));
    }
  }
  return s;
}

std::vector<const TrustedCertificate*> TrustStore::Named(
    const std::vector<std::unique_ptr<TrustedCertificate>>& certs, const Index& index,
    absl::string_view subject_der) {
  std::vector<const TrustedCertificate*> out;
  auto it = index.find(subject_der);
  if (it == index.end()) return out;
  for (size_t i : it->second) out.push_back(certs[i].get());
  return out;
}

std::vector<const TrustedCertificate*> TrustStore::RootsNamed(absl::string_view subject_der) const {
  return Named(roots_, roots_by_subject_, subject_der);
}

std::vector<const TrustedCertificate*> TrustStore::IntermediatesNamed(
    absl::string_view subject_der) const {
  return Named(intermediates_, intermediates_by_subject_, subject_der);
}

}  // namespace ers

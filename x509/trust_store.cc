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

TrustStore::TrustStore() : store_(X509_STORE_new()) {}

absl::Status TrustStore::AddRootsPem(absl::string_view pem,
                                     absl::string_view source,
                                     bool is_public) {
  std::vector<bssl::UniquePtr<X509>> certs;
  absl::Status s = ParsePemCertificates(pem, source, &certs);
  if (!s.ok()) return s;
  for (auto& cert : certs) {
    if (is_public) public_roots_.insert(Sha256Hex(cert.get()));
    if (X509_STORE_add_cert(store_.get(), cert.get())) ++num_roots_;
    ERR_clear_error();  // a duplicate root is not an error
  }
  return absl::OkStatus();
}

absl::Status TrustStore::AddIntermediatesPem(absl::string_view pem,
                                             absl::string_view source) {
  return ParsePemCertificates(pem, source, &intermediates_);
}

}  // namespace ers

// certificate_cache.h: parsed certificates by their DER, so that each
// distinct certificate a sweep meets is parsed (and hashed) once, however
// many chains it appears in: an intermediate shared by thousands of leaves,
// a leaf served on many ports. Bounded; safe to share between threads.
#ifndef ERS_X509_CERTIFICATE_CACHE_H_
#define ERS_X509_CERTIFICATE_CACHE_H_

#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "x509/certificate.h"

namespace ers {

class CertificateCache {
 public:
  // kDefaultEntries bounds the cache; when full it is emptied and refilled.
  static constexpr size_t kDefaultEntries = 16384;
  explicit CertificateCache(size_t max_entries = kDefaultEntries)
      : max_entries_(max_entries) {}
  CertificateCache(const CertificateCache&) = delete;
  CertificateCache& operator=(const CertificateCache&) = delete;

  // Parse returns |der| parsed, from the cache or by ParseCertificate (whose
  // errors it returns, and remembers). When |out_x509| is not null it
  // receives a new reference to BoringSSL's object. Thread-safe.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<const Certificate>> Parse(
      absl::string_view der, bssl::UniquePtr<X509>* out_x509);

  // num_parsed counts the DER strings actually parsed (cache misses).
  uint64_t num_parsed() const;

 private:
  struct Entry {
    absl::Status status;
    std::shared_ptr<const Certificate> cert;
    bssl::UniquePtr<X509> x509;
  };
  const size_t max_entries_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Entry>> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t num_parsed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ers

#endif  // ERS_X509_CERTIFICATE_CACHE_H_

#include "x509/certificate_cache.h"

namespace ers {

absl::StatusOr<std::shared_ptr<const Certificate>> CertificateCache::Parse(
    absl::string_view der, bssl::UniquePtr<X509>* out_x509) {
  std::shared_ptr<const Entry> entry;
  {
    // Parsing under the lock keeps "once" exact when threads meet the same
    // certificate; a parse (~20 us) is small beside a validation.
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(der);
    if (it != entries_.end()) {
      entry = it->second;
    } else {
      auto fresh = std::make_shared<Entry>();
      absl::StatusOr<Certificate> cert = ParseCertificate(der, &fresh->x509);
      if (cert.ok()) {
        fresh->cert = std::make_shared<const Certificate>(*std::move(cert));
      } else {
        fresh->status = cert.status();
      }
      ++num_parsed_;
      if (entries_.size() >= max_entries_) entries_.clear();
      entry = entries_.emplace(std::string(der), std::move(fresh)).first->second;
    }
  }
  if (!entry->status.ok()) return entry->status;
  if (out_x509 != nullptr) {
    X509_up_ref(entry->x509.get());
    out_x509->reset(entry->x509.get());
  }
  return entry->cert;
}

uint64_t CertificateCache::num_parsed() const {
  absl::MutexLock lock(&mu_);
  return num_parsed_;
}

}  // namespace ers

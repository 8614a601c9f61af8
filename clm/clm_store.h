// clm_store.h: the reference CLM's database (SQLite): clients, batches
// (idempotency keys with the reply they got), certificates, sightings and
// scan runs. A batch is stored in one transaction, and a batch id seen
// before returns its first reply: every batch is stored exactly once
// however often it is retried.
#ifndef ERS_CLM_CLM_STORE_H_
#define ERS_CLM_CLM_STORE_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/sqlite_db.h"

namespace ers {

class ClmStore {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ClmStore>> Open(
      const std::string& path);

  // StoreBatch stores |batch| (the upload API's body) from |client| and
  // returns the reply: {"batch_id", "duplicate", "stored": {...}}. Batch ids
  // are the client's own: the same id again with the same body is a
  // duplicate, with another body kAlreadyExists. kInvalidArgument names
  // what is wrong with a malformed batch (a certificate's sha256 that is not
  // its DER's among them). |body| is the request's bytes, hashed to tell a
  // retry from a conflict; when empty the batch's compact JSON is hashed.
  [[nodiscard]] absl::StatusOr<nlohmann::json> StoreBatch(
      const std::string& client, const nlohmann::json& batch, absl::string_view body = {});

  // Clients lists the clients (an array) with their last contact and counts: only
  // |only_client| when not empty, every client otherwise.
  [[nodiscard]] absl::StatusOr<nlohmann::json> Clients(const std::string& only_client);
  // Inventory returns sightings and the certificates (without DER) they
  // name: |only_client|'s when not empty, everyone's otherwise.
  [[nodiscard]] absl::StatusOr<nlohmann::json> Inventory(const std::string& only_client);
  // Touch records a contact from |client|.
  [[nodiscard]] absl::Status Touch(const std::string& client,
                                   const std::string& identity);

  // Certificate requests (clm_store_requests.cc). A record is a JSON
  // object: id, client, request_id, status (pending, issued, rejected),
  // reason, http_status (of the answer the submission got), names, key,
  // days, requested, decided, decided_by, certificate and chain (PEM),
  // serial, not_after, csr_sha256.
  //
  // AddCertRequest records a new request as |status| ("pending" or
  // "rejected" with |reason| and |http_status|), or returns the one
  // |client| made before under |request_id| with "duplicate": true;
  // kAlreadyExists if that one had another CSR.
  [[nodiscard]] absl::StatusOr<nlohmann::json> AddCertRequest(
      const std::string& client, const std::string& request_id, const std::string& csr_pem,
      const std::string& csr_sha256, const nlohmann::json& names, const std::string& key,
      int days, const std::string& status, const std::string& reason, int http_status);
  // DecideCertRequest ends pending request |id|: "issued" with the
  // certificate, or "rejected" with a reason. kFailedPrecondition if it is
  // not pending.
  [[nodiscard]] absl::Status DecideCertRequest(int64_t id, const std::string& status,
                                               const std::string& reason,
                                               const std::string& certificate_pem,
                                               const std::string& chain_pem,
                                               const std::string& serial, int64_t not_after,
                                               const std::string& decided_by);
  // CertRequest returns |client|'s request |request_id| (null if none);
  // CertRequestById any client's request |id|, with its "csr".
  [[nodiscard]] absl::StatusOr<nlohmann::json> CertRequest(const std::string& client,
                                                           const std::string& request_id);
  [[nodiscard]] absl::StatusOr<nlohmann::json> CertRequestById(int64_t id);
  // CertRequests lists requests (without certificates): |only_client|'s,
  // or everyone's when empty.
  [[nodiscard]] absl::StatusOr<nlohmann::json> CertRequests(const std::string& only_client);

 private:
  ClmStore(SqliteDb db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  absl::Status StoreBatchLocked(const std::string& client,
                                const nlohmann::json& batch,
                                const std::string& body_sha256,
                                nlohmann::json* reply);

  absl::Mutex mu_;
  SqliteDb db_ ABSL_GUARDED_BY(mu_);
  std::string path_;
};

}  // namespace ers

#endif  // ERS_CLM_CLM_STORE_H_

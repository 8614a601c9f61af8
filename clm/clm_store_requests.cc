// clm_store_requests.cc: ClmStore's certificate requests (clm_store.h).
#include <ctime>

#include "absl/strings/str_cat.h"
#include "clm/clm_store.h"

namespace ers {
namespace {

constexpr const char* kColumns =
    "id, client, request_id, status, reason, http_status, names, key, days, requested, "
    "coalesce(decided, 0), decided_by, certificate, chain, serial, coalesce(not_after, 0), "
    "csr_sha256, csr";

// Record reads one row of kColumns.
nlohmann::json Record(sqlite3_stmt* q, bool with_pem) {
  nlohmann::json r = {
      {"id", sqlite3_column_int64(q, 0)},
      {"client", ColumnText(q, 1)},
      {"request_id", ColumnText(q, 2)},
      {"status", ColumnText(q, 3)},
      {"reason", ColumnText(q, 4)},
      {"http_status", sqlite3_column_int64(q, 5)},
      {"names", nlohmann::json::parse(ColumnText(q, 6), nullptr, false)},
      {"key", ColumnText(q, 7)},
      {"days", sqlite3_column_int64(q, 8)},
      {"requested", sqlite3_column_int64(q, 9)},
      {"decided", sqlite3_column_int64(q, 10)},
      {"decided_by", ColumnText(q, 11)},
      {"serial", ColumnText(q, 14)},
      {"not_after", sqlite3_column_int64(q, 15)},
      {"csr_sha256", ColumnText(q, 16)},
  };
  if (with_pem) {
    r["certificate"] = ColumnText(q, 12);
    r["chain"] = ColumnText(q, 13);
  }
  return r;
}

}  // namespace

absl::StatusOr<nlohmann::json> ClmStore::AddCertRequest(
    const std::string& client, const std::string& request_id, const std::string& csr_pem,
    const std::string& csr_sha256, const nlohmann::json& names, const std::string& key, int days,
    const std::string& status, const std::string& reason, int http_status) {
  absl::MutexLock lock(&mu_);
  nlohmann::json earlier;
  std::string earlier_csr;
  absl::Status s = SqlQuery(
      db_.get(), path_, "look up a certificate request",
      absl::StrCat("SELECT ", kColumns, " FROM cert_requests WHERE client = ?1 AND request_id = ?2").c_str(),
      {client, request_id}, [&](sqlite3_stmt* q) {
        earlier = Record(q, true);
        earlier_csr = ColumnText(q, 16);
      });
  if (!s.ok()) return s;
  if (!earlier.is_null()) {
    if (earlier_csr != csr_sha256) {
      return absl::AlreadyExistsError(absl::StrCat(
          "request_id ", request_id, " was used before for another CSR: choose a fresh one"));
    }
    earlier["duplicate"] = true;
    return earlier;
  }
  s = SqlQuery(db_.get(), path_, "record a certificate request",
               "INSERT INTO cert_requests (client, request_id, csr, csr_sha256, names, key, days, "
               "status, reason, http_status, requested, decided) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
               "?7, ?8, ?9, ?10, ?11, CASE WHEN ?8 = 'pending' THEN NULL ELSE ?11 END)",
               {client, request_id, csr_pem, csr_sha256, names.dump(), key, int64_t{days}, status,
                reason, int64_t{http_status}, static_cast<int64_t>(time(nullptr))},
               nullptr);
  if (!s.ok()) return s;
  const int64_t id = sqlite3_last_insert_rowid(db_.get());
  nlohmann::json out;
  s = SqlQuery(db_.get(), path_, "read a certificate request",
               absl::StrCat("SELECT ", kColumns, " FROM cert_requests WHERE id = ?1").c_str(), {id},
               [&](sqlite3_stmt* q) { out = Record(q, true); });
  if (!s.ok()) return s;
  out["duplicate"] = false;
  return out;
}

absl::Status ClmStore::DecideCertRequest(int64_t id, const std::string& status,
                                         const std::string& reason,
                                         const std::string& certificate_pem,
                                         const std::string& chain_pem, const std::string& serial,
                                         int64_t not_after, const std::string& decided_by) {
  absl::MutexLock lock(&mu_);
  absl::Status s = SqlQuery(
      db_.get(), path_, "decide a certificate request",
      "UPDATE cert_requests SET status = ?2, reason = ?3, certificate = ?4, chain = ?5, "
      "serial = ?6, not_after = ?7, decided_by = ?8, decided = ?9, "
      "http_status = CASE WHEN ?2 = 'issued' THEN 201 ELSE 403 END "
      "WHERE id = ?1 AND status = 'pending'",
      {id, status, reason, certificate_pem, chain_pem, serial, not_after, decided_by,
       static_cast<int64_t>(time(nullptr))},
      nullptr);
  if (!s.ok()) return s;
  if (sqlite3_changes(db_.get()) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate request ", id, " is not pending"));
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> ClmStore::CertRequest(const std::string& client,
                                                     const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  nlohmann::json out;
  absl::Status s = SqlQuery(
      db_.get(), path_, "read a certificate request",
      absl::StrCat("SELECT ", kColumns, " FROM cert_requests WHERE client = ?1 AND request_id = ?2").c_str(),
      {client, request_id}, [&](sqlite3_stmt* q) { out = Record(q, true); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<nlohmann::json> ClmStore::CertRequestById(int64_t id) {
  absl::MutexLock lock(&mu_);
  nlohmann::json out;
  absl::Status s = SqlQuery(
      db_.get(), path_, "read a certificate request",
      absl::StrCat("SELECT ", kColumns, " FROM cert_requests WHERE id = ?1").c_str(), {id},
      [&](sqlite3_stmt* q) {
        out = Record(q, true);
        out["csr"] = ColumnText(q, 17);
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<nlohmann::json> ClmStore::CertRequests(const std::string& only_client) {
  absl::MutexLock lock(&mu_);
  nlohmann::json out = nlohmann::json::array();
  absl::Status s = SqlQuery(
      db_.get(), path_, "list certificate requests",
      absl::StrCat("SELECT ", kColumns,
                   " FROM cert_requests WHERE ?1 = '' OR client = ?1 ORDER BY id").c_str(),
      {only_client}, [&](sqlite3_stmt* q) { out.push_back(Record(q, false)); });
  if (!s.ok()) return s;
  return out;
}

}  // namespace ers

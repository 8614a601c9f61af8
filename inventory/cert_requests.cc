#include "inventory/cert_requests.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "base/sqlite_db.h"

namespace ers {
namespace {

constexpr const char* kColumns =
    "SELECT request_id, common_name, names, key_type, days, files, status, reason, clm_id, "
    "serial, not_after, certificate_sha256, renews FROM cert_requests ";

CertRequestRecord Read(sqlite3_stmt* q) {
  CertRequestRecord r;
  r.request_id = ColumnText(q, 0);
  r.common_name = ColumnText(q, 1);
  const nlohmann::json names = nlohmann::json::parse(ColumnText(q, 2), nullptr, false);
  if (names.is_array()) {
    for (const auto& n : names) {
      if (n.is_string()) r.names.push_back(n.get<std::string>());
    }
  }
  r.key_type = ColumnText(q, 3);
  r.days = sqlite3_column_int(q, 4);
  r.files = ColumnText(q, 5);
  r.status = ColumnText(q, 6);
  r.reason = ColumnText(q, 7);
  r.clm_id = sqlite3_column_int64(q, 8);
  r.serial = ColumnText(q, 9);
  r.not_after = sqlite3_column_int64(q, 10);
  r.certificate_sha256 = ColumnText(q, 11);
  r.renews = ColumnText(q, 12);
  return r;
}

}  // namespace

absl::Status SaveCertRequest(Inventory& inv, const CertRequestRecord& r) {
  // Committed at once: the request must be on disk before it is sent.
  if (absl::Status s = inv.Commit(); !s.ok()) return s;
  const int64_t now = time(nullptr);
  return SqlQuery(
      inv.db(), inv.path(), "save a certificate request",
      "INSERT INTO cert_requests (request_id, common_name, names, key_type, days, files, status, "
      "reason, clm_id, serial, not_after, certificate_sha256, renews, created, updated) VALUES "
      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14) "
      "ON CONFLICT(request_id) DO UPDATE SET status = ?7, reason = ?8, clm_id = ?9, serial = ?10, "
      "not_after = ?11, certificate_sha256 = ?12, updated = ?14",
      {r.request_id, r.common_name, nlohmann::json(r.names).dump(), r.key_type,
       int64_t{r.days}, r.files, r.status, r.reason, r.clm_id, r.serial, r.not_after,
       r.certificate_sha256, r.renews, now},
      nullptr);
}

absl::StatusOr<std::optional<CertRequestRecord>> FindCertRequest(Inventory& inv,
                                                                 const std::string& request_id) {
  std::optional<CertRequestRecord> out;
  absl::Status s = SqlQuery(inv.db(), inv.path(), "find a certificate request",
                            (std::string(kColumns) + "WHERE request_id = ?1").c_str(),
                            {request_id}, [&](sqlite3_stmt* q) { out = Read(q); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<CertRequestRecord>> OpenCertRequestFor(Inventory& inv,
                                                                    const std::string& files) {
  std::optional<CertRequestRecord> out;
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "find an open certificate request",
      (std::string(kColumns) +
       "WHERE files = ?1 AND status IN ('new', 'pending') ORDER BY created DESC LIMIT 1")
          .c_str(),
      {files}, [&](sqlite3_stmt* q) { out = Read(q); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<CertRequestRecord>> CertRequests(Inventory& inv) {
  std::vector<CertRequestRecord> out;
  absl::Status s = SqlQuery(inv.db(), inv.path(), "list certificate requests",
                            (std::string(kColumns) + "ORDER BY created, rowid").c_str(), {},
                            [&](sqlite3_stmt* q) { out.push_back(Read(q)); });
  if (!s.ok()) return s;
  return out;
}

}  // namespace ers

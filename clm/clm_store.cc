#include "clm/clm_store.h"

#include <ctime>
#include <optional>

#include "absl/strings/match.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "base/json_fields.h"
#include "absl/strings/str_cat.h"

namespace ers {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS clients (
  name TEXT PRIMARY KEY, identity TEXT, first_contact INTEGER,
  last_contact INTEGER, batches INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
  batch_id TEXT PRIMARY KEY, client TEXT NOT NULL, received INTEGER NOT NULL,
  reply TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS certificates (
  sha256 TEXT PRIMARY KEY, der BLOB NOT NULL, first_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sightings (
  client TEXT NOT NULL, sha256 TEXT NOT NULL, ip TEXT NOT NULL,
  port INTEGER NOT NULL, name TEXT NOT NULL, sni TEXT, tls_version TEXT,
  first_seen INTEGER, last_seen INTEGER, findings TEXT, chain TEXT,
  PRIMARY KEY (client, sha256, ip, port, name)
);
CREATE TABLE IF NOT EXISTS runs (
  client TEXT NOT NULL, run_id INTEGER NOT NULL, summary TEXT,
  PRIMARY KEY (client, run_id)
);
)sql";

// kMigrations[v] takes the database from version v to v + 1. Version 1
// scopes batch ids to their client (another client's id is not a
// duplicate) and keeps each batch's body hash, so the same id with another
// body is refused (409) instead of answered with an unrelated reply.
constexpr const char* kMigrations[] = {
    "CREATE TABLE batches_v1 (client TEXT NOT NULL, batch_id TEXT NOT NULL, "
    "  body_sha256 TEXT NOT NULL DEFAULT '', received INTEGER NOT NULL, reply TEXT NOT NULL, "
    "  PRIMARY KEY (client, batch_id));"
    "INSERT INTO batches_v1 (client, batch_id, received, reply) "
    "  SELECT client, batch_id, received, reply FROM batches;"
    "DROP TABLE batches;"
    "ALTER TABLE batches_v1 RENAME TO batches;"
    "PRAGMA user_version = 1;",
    // Version 2 puts token and certificate clients in namespaces of their
    // own ("token:NAME", "cert:CN"): a certificate whose CN equals a
    // token's name was the same client before.
    "CREATE TEMP TABLE client_names AS SELECT name AS old, "
    "  CASE WHEN identity = 'token' THEN 'token:' ELSE 'cert:' END || name AS new "
    "  FROM clients;"
    "UPDATE sightings SET client = coalesce((SELECT new FROM client_names WHERE old = client), "
    "  'token:' || client);"
    "UPDATE batches SET client = coalesce((SELECT new FROM client_names WHERE old = client), "
    "  'token:' || client);"
    "UPDATE runs SET client = coalesce((SELECT new FROM client_names WHERE old = client), "
    "  'token:' || client);"
    "UPDATE clients SET name = (SELECT new FROM client_names WHERE old = name), "
    "  identity = CASE WHEN identity = 'token' THEN 'token' ELSE 'certificate' END;"
    "DROP TABLE client_names;"
    "PRAGMA user_version = 2;",
    // Version 3 keys runs by the client's host as well: the machines of a
    // sharded sweep (pods of a Kubernetes Indexed Job) share one
    // credential and each numbers its runs from 1, so (client, run_id)
    // let one shard's run replace another's.
    "CREATE TABLE runs_v3 (client TEXT NOT NULL, host TEXT NOT NULL DEFAULT '', "
    "  run_id INTEGER NOT NULL, summary TEXT, PRIMARY KEY (client, host, run_id));"
    "INSERT INTO runs_v3 (client, run_id, summary) SELECT client, run_id, summary FROM runs;"
    "DROP TABLE runs;"
    "ALTER TABLE runs_v3 RENAME TO runs;"
    "PRAGMA user_version = 3;",
    // Version 4: certificate requests and their decisions. The client's
    // request_id makes a retried submission the same request; a private
    // key never reaches the CLM, only the CSR.
    "CREATE TABLE cert_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "  client TEXT NOT NULL, request_id TEXT NOT NULL, csr TEXT NOT NULL, "
    "  csr_sha256 TEXT NOT NULL, names TEXT NOT NULL, key TEXT NOT NULL, days INTEGER NOT NULL, "
    "  status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', http_status INTEGER NOT NULL, "
    "  requested INTEGER NOT NULL, decided INTEGER, decided_by TEXT NOT NULL DEFAULT '', "
    "  certificate TEXT NOT NULL DEFAULT '', chain TEXT NOT NULL DEFAULT '', "
    "  serial TEXT NOT NULL DEFAULT '', not_after INTEGER, UNIQUE (client, request_id));"
    "PRAGMA user_version = 4;",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Limits on one batch, so a client cannot make the server store without
// bound in one request.
constexpr size_t kMaxCertificates = 10000;
constexpr size_t kMaxSightings = 10000;

}  // namespace

absl::StatusOr<std::unique_ptr<ClmStore>> ClmStore::Open(const std::string& path) {
  absl::StatusOr<SqliteDb> db = OpenSqlite(path);
  if (!db.ok()) return db.status();
  absl::Status s = SqlExec(db->get(), kSchema, path);
  if (!s.ok()) return s;
  int64_t version = 0;
  s = SqlQuery(db->get(), path, "read the schema version", "PRAGMA user_version", {},
               [&](sqlite3_stmt* st) { version = sqlite3_column_int64(st, 0); });
  if (!s.ok()) return s;
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " was written by a newer ers-clm (schema ", version, ")"));
  }
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    s = SqlExec(db->get(), "BEGIN IMMEDIATE;", path);
    if (s.ok()) s = SqlExec(db->get(), kMigrations[v], path);
    if (s.ok()) s = SqlExec(db->get(), "COMMIT;", path);
    if (!s.ok()) {
      (void)SqlExec(db->get(), "ROLLBACK;", path);
      return s;
    }
  }
  return std::unique_ptr<ClmStore>(new ClmStore(*std::move(db), path));
}

absl::Status ClmStore::Touch(const std::string& client, const std::string& identity) {
  absl::MutexLock lock(&mu_);
  return SqlQuery(db_.get(), path_, "record a contact",
                  "INSERT INTO clients (name, identity, first_contact, last_contact) "
                  "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(name) DO UPDATE SET "
                  "last_contact = ?3, identity = ?2",
                  {client, identity, static_cast<int64_t>(time(nullptr))}, nullptr);
}

absl::StatusOr<nlohmann::json> ClmStore::StoreBatch(const std::string& client,
                                                    const nlohmann::json& batch,
                                                    absl::string_view body) {
  absl::MutexLock lock(&mu_);
  if (!batch.is_object() || !batch.contains("batch_id") ||
      !batch["batch_id"].is_string() || batch["batch_id"].get<std::string>().empty() ||
      batch["batch_id"].get<std::string>().size() > 128) {
    return absl::InvalidArgumentError("batch_id (a string of 1 to 128 characters) is required");
  }
  const std::string id = batch["batch_id"];
  const std::string body_sha256 = body.empty() ? Sha256Hex(batch.dump()) : Sha256Hex(body);
  // A batch this client sent before gets its first reply again; the same
  // id with another body is a conflict, never someone else's reply.
  std::optional<std::string> earlier;
  std::string earlier_sha256;
  absl::Status s = SqlQuery(db_.get(), path_, "look up a batch",
                            "SELECT reply, body_sha256 FROM batches WHERE client = ?1 AND "
                            "batch_id = ?2",
                            {client, id}, [&](sqlite3_stmt* st) {
                              earlier = ColumnText(st, 0);
                              earlier_sha256 = ColumnText(st, 1);
                            });
  if (!s.ok()) return s;
  if (earlier.has_value()) {
    // Servers before 2026-12 hashed the compact JSON, not the bytes: a
    // retry of a batch they stored is recognised by that hash too.
    if (!earlier_sha256.empty() && earlier_sha256 != body_sha256 &&
        earlier_sha256 != Sha256Hex(batch.dump())) {
      return absl::AlreadyExistsError(absl::StrCat(
          "batch_id ", id, " was used before for another body: choose a fresh batch id"));
    }
    nlohmann::json reply = nlohmann::json::parse(*earlier, nullptr, false);
    reply["duplicate"] = true;
    return reply;
  }
  s = SqlExec(db_.get(), "BEGIN IMMEDIATE;", path_);
  if (!s.ok()) return s;
  nlohmann::json reply;
  s = StoreBatchLocked(client, batch, body_sha256, &reply);
  if (!s.ok()) {
    (void)SqlExec(db_.get(), "ROLLBACK;", path_);
    return s;
  }
  s = SqlExec(db_.get(), "COMMIT;", path_);
  if (!s.ok()) return s;
  return reply;
}

absl::Status ClmStore::StoreBatchLocked(const std::string& client,
                                        const nlohmann::json& batch,
                                        const std::string& body_sha256,
                                        nlohmann::json* reply) {
  const int64_t now = time(nullptr);
  const auto certificates = batch.value("certificates", nlohmann::json::array());
  const auto sightings = batch.value("sightings", nlohmann::json::array());
  if (!certificates.is_array() || !sightings.is_array()) {
    return absl::InvalidArgumentError("certificates and sightings must be arrays");
  }
  if (certificates.size() > kMaxCertificates || sightings.size() > kMaxSightings) {
    return absl::InvalidArgumentError("batch too large (at most 10000 certificates and 10000 sightings)");
  }
  // Each statement is compiled once per batch, not once per row.
  absl::StatusOr<Stmt> insert_certificate = Prepare(
      db_.get(),
      "INSERT OR IGNORE INTO certificates (sha256, der, first_seen) VALUES (?1, ?2, ?3)");
  absl::StatusOr<Stmt> insert_sighting = Prepare(
      db_.get(),
      "INSERT INTO sightings (client, sha256, ip, port, name, sni, tls_version, "
      "first_seen, last_seen, findings, chain) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11) ON CONFLICT(client, sha256, ip, port, name) DO "
      "UPDATE SET last_seen = max(last_seen, ?9), findings = ?10, sni = ?6");
  if (!insert_certificate.ok()) return insert_certificate.status();
  if (!insert_sighting.ok()) return insert_sighting.status();
  // Step runs a bound statement once and resets it for the next row.
  auto Step = [&](sqlite3_stmt* st, const char* what) {
    absl::Status s;
    if (sqlite3_step(st) != SQLITE_DONE) s = SqliteError(db_.get(), path_, what);
    sqlite3_reset(st);
    return s;
  };
  int new_certificates = 0;
  try {
    for (const auto& c : certificates) {
      std::string der;
      if (!Base64Decode(c.at("der").get<std::string>(), &der) || der.empty()) {
        return absl::InvalidArgumentError("certificate der is not base64");
      }
      // The server hashes: a client cannot plant bytes under another
      // certificate's name.
      const std::string sha256 = Sha256Hex(der);
      if (!absl::EqualsIgnoreCase(c.at("sha256").get<std::string>(), sha256)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "certificate sha256 ", c.at("sha256").get<std::string>().substr(0, 64),
            " does not match its der (", sha256, ")"));
      }
      BindText(insert_certificate->get(), 1, sha256);
      BindBlob(insert_certificate->get(), 2, der);
      BindInt(insert_certificate->get(), 3, now);
      if (absl::Status stored = Step(insert_certificate->get(), "store a certificate");
          !stored.ok()) {
        return stored;
      }
      new_certificates += sqlite3_changes(db_.get());
    }
    for (const auto& s : sightings) {
      int64_t port = 0, first_seen = 0, last_seen = 0;
      if (!s.is_object() || !JsonInteger(s.at("port"), 1, 65535, &port) ||
          !JsonIntegerField(s, "first_seen", 0, INT64_MAX, now, &first_seen) ||
          !JsonIntegerField(s, "last_seen", 0, INT64_MAX, now, &last_seen)) {
        return absl::InvalidArgumentError(
            "a sighting's port (1-65535) or times (Unix seconds) are not integers");
      }
      sqlite3_stmt* st = insert_sighting->get();
      BindText(st, 1, client);
      BindText(st, 2, s.at("sha256").get_ref<const std::string&>());
      BindText(st, 3, s.at("ip").get_ref<const std::string&>());
      BindInt(st, 4, port);
      BindText(st, 5, s.value("name", ""));
      BindText(st, 6, s.value("sni", ""));
      BindText(st, 7, s.value("tls_version", ""));
      BindInt(st, 8, first_seen);
      BindInt(st, 9, last_seen);
      BindText(st, 10, s.value("findings", nlohmann::json::array()).dump());
      BindText(st, 11, s.value("chain", nlohmann::json::array()).dump());
      if (absl::Status stored = Step(st, "store a sighting"); !stored.ok()) return stored;
    }
    int64_t run_id = 0;
    if (batch.contains("run") && batch["run"].is_object() &&
        JsonIntegerField(batch["run"], "id", 0, INT64_MAX, 0, &run_id)) {
      std::string host;
      if (batch.contains("client") && batch["client"].is_object()) {
        host = JsonString(batch["client"], "host").substr(0, 255);
      }
      absl::Status stored = SqlQuery(
          db_.get(), path_, "store the run",
          "INSERT OR REPLACE INTO runs (client, host, run_id, summary) VALUES (?1, ?2, ?3, ?4)",
          {client, host, run_id, batch["run"].dump()}, nullptr);
      if (!stored.ok()) return stored;
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("batch does not follow the API: ", e.what()));
  }
  *reply = {{"batch_id", batch["batch_id"]},
            {"duplicate", false},
            {"stored", {{"certificates", certificates.size()},
                        {"new_certificates", new_certificates},
                        {"sightings", sightings.size()}}}};
  absl::Status s = SqlQuery(
      db_.get(), path_, "record the batch",
      "INSERT INTO batches (batch_id, client, received, reply, body_sha256) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      {batch["batch_id"].get<std::string>(), client, now, reply->dump(), body_sha256}, nullptr);
  if (!s.ok()) return s;
  return SqlQuery(db_.get(), path_, "count the batch",
                  "UPDATE clients SET batches = batches + 1 WHERE name = ?1", {client},
                  nullptr);
}

absl::StatusOr<nlohmann::json> ClmStore::Clients(const std::string& only_client) {
  absl::MutexLock lock(&mu_);
  nlohmann::json out = nlohmann::json::array();
  absl::Status s = SqlQuery(
      db_.get(), path_, "list clients",
      "SELECT c.name, coalesce(c.identity, ''), c.first_contact, c.last_contact, "
      "c.batches, (SELECT count(*) FROM sightings s WHERE s.client = c.name), "
      "(SELECT count(DISTINCT sha256) FROM sightings s WHERE s.client = c.name), "
      "(SELECT count(*) FROM runs r WHERE r.client = c.name) "
      "FROM clients c WHERE ?1 = '' OR c.name = ?1 ORDER BY c.name",
      {only_client}, [&](sqlite3_stmt* q) {
    out.push_back({{"name", ColumnText(q, 0)},
                   {"identity", ColumnText(q, 1)},
                   {"first_contact", sqlite3_column_int64(q, 2)},
                   {"last_contact", sqlite3_column_int64(q, 3)},
                   {"batches", sqlite3_column_int64(q, 4)},
                   {"sightings", sqlite3_column_int64(q, 5)},
                   {"certificates", sqlite3_column_int64(q, 6)},
                   {"runs", sqlite3_column_int64(q, 7)}});
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<nlohmann::json> ClmStore::Inventory(const std::string& only_client) {
  absl::MutexLock lock(&mu_);
  nlohmann::json out;
  out["certificates"] = nlohmann::json::array();
  out["sightings"] = nlohmann::json::array();
  absl::Status s = SqlQuery(
      db_.get(), path_, "list certificates",
      "SELECT sha256, length(der), first_seen FROM certificates c WHERE ?1 = '' OR "
      "EXISTS (SELECT 1 FROM sightings s WHERE s.client = ?1 AND s.sha256 = c.sha256) "
      "ORDER BY sha256",
      {only_client}, [&](sqlite3_stmt* q) {
        out["certificates"].push_back({{"sha256", ColumnText(q, 0)},
                                       {"der_bytes", sqlite3_column_int64(q, 1)},
                                       {"first_seen", sqlite3_column_int64(q, 2)}});
      });
  if (!s.ok()) return s;
  s = SqlQuery(
      db_.get(), path_, "list sightings",
      "SELECT client, sha256, ip, port, name, sni, tls_version, first_seen, "
      "last_seen, findings FROM sightings WHERE ?1 = '' OR client = ?1 "
      "ORDER BY client, ip, port, name",
      {only_client}, [&](sqlite3_stmt* q) {
    out["sightings"].push_back(
        {{"client", ColumnText(q, 0)}, {"sha256", ColumnText(q, 1)},
         {"ip", ColumnText(q, 2)}, {"port", sqlite3_column_int64(q, 3)},
         {"name", ColumnText(q, 4)}, {"sni", ColumnText(q, 5)},
         {"tls_version", ColumnText(q, 6)},
         {"first_seen", sqlite3_column_int64(q, 7)},
         {"last_seen", sqlite3_column_int64(q, 8)},
         {"findings", nlohmann::json::parse(ColumnText(q, 9), nullptr, false)}});
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace ers

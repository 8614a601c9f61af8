#include "cli/inventory.h"

#include <openssl/sha.h>
#include <unistd.h>

#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "base/json_fields.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "x509/certificate.h"

namespace ers {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS certificates (
  sha256 TEXT PRIMARY KEY,
  der BLOB NOT NULL,
  subject TEXT, subject_cn TEXT, issuer TEXT, issuer_cn TEXT, issuer_org TEXT,
  serial TEXT, not_before INTEGER, not_after INTEGER,
  key_type TEXT, key_bits INTEGER, key_curve TEXT,
  signature_algorithm TEXT, self_signed INTEGER, is_ca INTEGER,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scan_runs (
  id INTEGER PRIMARY KEY,
  started INTEGER NOT NULL, finished INTEGER,
  status TEXT NOT NULL, pid INTEGER,
  targets INTEGER DEFAULT 0, results INTEGER DEFAULT 0, tls INTEGER DEFAULT 0,
  duration_s REAL DEFAULT 0, options TEXT
);
CREATE TABLE IF NOT EXISTS sightings (
  cert_sha256 TEXT NOT NULL REFERENCES certificates(sha256),
  ip TEXT NOT NULL, port INTEGER NOT NULL, name TEXT NOT NULL,
  sni TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  first_run INTEGER, last_run INTEGER,
  PRIMARY KEY (cert_sha256, ip, port, name)
);
CREATE TABLE IF NOT EXISTS endpoint_results (
  run_id INTEGER NOT NULL REFERENCES scan_runs(id),
  ip TEXT NOT NULL, port INTEGER NOT NULL, name TEXT NOT NULL,
  sni TEXT, leaf_sha256 TEXT, chain TEXT, tls_version TEXT, cipher TEXT,
  trusted INTEGER, findings TEXT, seen INTEGER NOT NULL,
  PRIMARY KEY (run_id, ip, port, name)
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS endpoint_results_leaf
  ON endpoint_results (leaf_sha256);
)sql";

// MarkKilled marks runs whose process is gone as killed.
constexpr const char* kMarkKilled =
    "UPDATE scan_runs SET status = 'killed' WHERE status = 'running'";

int64_t ParseTime(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) return 0;
  return absl::ToUnixSeconds(t);
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

std::string Sha256OfDer(const std::string& der) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(der.data()), der.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

}  // namespace

absl::Status Inventory::StoreCertificate(const std::string& sha256,
                                         const std::string& der, int64_t seen) {
  // A certificate already known only gets its last-seen time moved.
  absl::StatusOr<Stmt> touch = Prepare(
      db(), "UPDATE certificates SET last_seen = max(last_seen, ?2) "
            "WHERE sha256 = ?1");
  if (!touch.ok()) return touch.status();
  BindText(touch->get(), 1, sha256);
  BindInt(touch->get(), 2, seen);
  if (sqlite3_step(touch->get()) != SQLITE_DONE) {
    return SqliteError(db(), path_, "update a certificate");
  }
  if (sqlite3_changes(db()) > 0) return absl::OkStatus();
  absl::StatusOr<Stmt> insert = Prepare(
      db(),
      "INSERT INTO certificates (sha256, der, subject, subject_cn, issuer, "
      "issuer_cn, issuer_org, serial, not_before, not_after, key_type, "
      "key_bits, key_curve, signature_algorithm, self_signed, is_ca, "
      "first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
      "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)");
  if (!insert.ok()) return insert.status();
  sqlite3_stmt* st = insert->get();
  BindText(st, 1, sha256);
  BindBlob(st, 2, der);
  // Unparsable certificates are kept (raw DER) with no fields.
  absl::StatusOr<Certificate> c = ParseCertificate(der);
  if (c.ok()) {
    BindText(st, 3, c->subject);
    BindText(st, 4, c->subject_cn);
    BindText(st, 5, c->issuer);
    BindText(st, 6, c->issuer_cn);
    BindText(st, 7, c->issuer_org);
    BindText(st, 8, c->serial_hex);
    BindInt(st, 9, c->not_before_unix);
    BindInt(st, 10, c->not_after_unix);
    BindText(st, 11, KeyTypeName(c->key_type));
    BindInt(st, 12, c->key_bits);
    BindText(st, 13, c->key_curve);
    BindText(st, 14, c->signature_algorithm);
    BindInt(st, 15, c->self_signed);
    BindInt(st, 16, c->is_ca);
  }
  BindInt(st, 17, seen);
  if (sqlite3_step(st) != SQLITE_DONE) {
    return SqliteError(db(), path_, "store a certificate");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Inventory>> Inventory::Open(
    const std::string& path) {
  absl::StatusOr<SqliteDb> db = OpenSqlite(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<Inventory> inv(new Inventory(*std::move(db), path));
  absl::Status s = SqlExec(inv->db(), kSchema, path);
  // WAL with synchronous=NORMAL: a commit survives the process being killed
  // (not a power cut, which costs at most the last commits) without an
  // fsync per commit.
  if (s.ok()) s = SqlExec(inv->db(), "PRAGMA synchronous = NORMAL;", path);
  if (!s.ok()) return s;
  return inv;
}

Inventory::~Inventory() { (void)Flush(); }

absl::Status Inventory::EnsureTransaction() {
  if (in_transaction_) return absl::OkStatus();
  absl::Status s = SqlExec(db(), "BEGIN IMMEDIATE;", path_);
  if (s.ok()) in_transaction_ = true;
  return s;
}

absl::Status Inventory::Flush() {
  last_commit_ns_ = MonotonicNs();
  if (checkpoint_) {
    absl::StatusOr<std::string> point = checkpoint_();
    if (!point.ok()) return point.status();
    if (!point->empty()) {
      absl::Status s = WriteResumePoint(*point);
      if (!s.ok()) return s;
    }
  }
  if (!in_transaction_) return absl::OkStatus();
  in_transaction_ = false;
  pending_ = 0;
  return SqlExec(db(), "COMMIT;", path_);
}

absl::Status Inventory::WriteResumePoint(const std::string& point) {
  // The resume point goes into the same transaction as the results it
  // covers: after a crash, both or neither are there.
  absl::Status s = EnsureTransaction();
  if (!s.ok()) return s;
  absl::StatusOr<Stmt> st = Prepare(
      db(), "INSERT INTO settings (key, value) VALUES ('resume_point', ?1) "
            "ON CONFLICT(key) DO UPDATE SET value = ?1");
  if (!st.ok()) return st.status();
  BindText(st->get(), 1, point);
  if (sqlite3_step(st->get()) != SQLITE_DONE) {
    return SqliteError(db(), path_, "record the resume point");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Inventory::BeginRun(absl::string_view options_json) {
  // The caller holds the scan lock, so a run still "running" was killed.
  absl::Status s = SqlExec(db(), kMarkKilled, path_);
  if (!s.ok()) return s;
  absl::StatusOr<Stmt> insert = Prepare(
      db(), "INSERT INTO scan_runs (started, status, pid, options) "
            "VALUES (?1, 'running', ?2, ?3)");
  if (!insert.ok()) return insert.status();
  BindInt(insert->get(), 1, time(nullptr));
  BindInt(insert->get(), 2, getpid());
  BindText(insert->get(), 3, options_json);
  if (sqlite3_step(insert->get()) != SQLITE_DONE) {
    return SqliteError(db(), path_, "record the run");
  }
  run_results_ = 0;
  run_tls_ = 0;
  return sqlite3_last_insert_rowid(db());
}

absl::Status Inventory::AddResultLine(int64_t run_id, absl::string_view line) {
  ++run_results_;
  // Most results are not TLS: count them without parsing, but still commit
  // (with the resume point) on time.
  if (!absl::StrContains(line, "\"outcome\":\"tls\"")) {
    if (checkpoint_ && MonotonicNs() - last_commit_ns_ >= kCommitIntervalNs) return Flush();
    return absl::OkStatus();
  }
  absl::Status s = EnsureTransaction();
  if (!s.ok()) return s;
  // A line is stored whole or not at all.
  s = SqlExec(db(), "SAVEPOINT line;", path_);
  if (!s.ok()) return s;
  s = ImportTls(run_id, std::string(line));
  if (!s.ok()) {
    (void)SqlExec(db(), "ROLLBACK TO line; RELEASE line;", path_);
    return s;
  }
  s = SqlExec(db(), "RELEASE line;", path_);
  if (!s.ok()) return s;
  ++run_tls_;
  if (++pending_ >= kBatch || MonotonicNs() - last_commit_ns_ >= kCommitIntervalNs) {
    return Flush();
  }
  return absl::OkStatus();
}

absl::Status Inventory::ImportTls(int64_t run_id, const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("result line is not JSON");
  }
  try {
    const std::string ip = j.at("ip").get<std::string>();
    int64_t port = 0;
    if (!JsonInteger(j.at("port"), 1, 65535, &port)) {
      return absl::InvalidArgumentError("port is not a number from 1 to 65535");
    }
    const std::string name = j.value("name", "");
    const std::string sni = j.value("sni", "");
    const int64_t seen = ParseTime(j.value("time", "")) != 0
                             ? ParseTime(j.value("time", ""))
                             : static_cast<int64_t>(time(nullptr));
    const auto& chain = j.at("chain");
    if (!chain.is_array() || chain.empty()) {
      return absl::InvalidArgumentError("TLS result without a chain");
    }
    const nlohmann::json* analysis =
        j.contains("analysis") ? &j["analysis"] : nullptr;
    // Store every certificate served, with its parsed fields when known.
    std::vector<std::string> ders;
    for (const auto& b64 : chain) {
      std::string der;
      if (!absl::Base64Unescape(b64.get<std::string>(), &der)) {
        return absl::InvalidArgumentError("chain entry is not base64");
      }
      ders.push_back(std::move(der));
    }
    std::string leaf_sha256;
    nlohmann::json chain_ids = nlohmann::json::array();
    for (size_t i = 0; i < ders.size(); ++i) {
      const std::string sha = Sha256OfDer(ders[i]);
      chain_ids.push_back(sha);
      if (i == 0) leaf_sha256 = sha;
      absl::Status stored = StoreCertificate(sha, ders[i], seen);
      if (!stored.ok()) return stored;
    }
    absl::StatusOr<Stmt> sighting = Prepare(
        db(),
        "INSERT INTO sightings (cert_sha256, ip, port, name, sni, first_seen, "
        "last_seen, first_run, last_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, "
        "?7, ?7) ON CONFLICT(cert_sha256, ip, port, name) DO UPDATE SET "
        "last_seen = max(last_seen, ?6), last_run = ?7, sni = ?5");
    if (!sighting.ok()) return sighting.status();
    sqlite3_stmt* st = sighting->get();
    BindText(st, 1, leaf_sha256);
    BindText(st, 2, ip);
    BindInt(st, 3, port);
    BindText(st, 4, name);
    BindText(st, 5, sni);
    BindInt(st, 6, seen);
    BindInt(st, 7, run_id);
    if (sqlite3_step(st) != SQLITE_DONE) {
      return SqliteError(db(), path_, "store a sighting");
    }
    absl::StatusOr<Stmt> result = Prepare(
        db(),
        "INSERT OR REPLACE INTO endpoint_results (run_id, ip, port, name, sni, "
        "leaf_sha256, chain, tls_version, cipher, trusted, findings, seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!result.ok()) return result.status();
    st = result->get();
    BindInt(st, 1, run_id);
    BindText(st, 2, ip);
    BindInt(st, 3, port);
    BindText(st, 4, name);
    BindText(st, 5, sni);
    BindText(st, 6, leaf_sha256);
    BindText(st, 7, chain_ids.dump());
    const nlohmann::json tls = j.value("tls", nlohmann::json::object());
    BindText(st, 8, tls.value("version", ""));
    BindText(st, 9, tls.value("cipher", ""));
    BindInt(st, 10,
            analysis != nullptr &&
                analysis->value("validation", nlohmann::json::object())
                    .value("trusted", false));
    BindText(st, 11,
             analysis != nullptr
                 ? analysis->value("findings", nlohmann::json::array()).dump()
                 : "[]");
    BindInt(st, 12, seen);
    if (sqlite3_step(st) != SQLITE_DONE) {
      return SqliteError(db(), path_, "store an endpoint result");
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("result line does not follow the schema: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status Inventory::FinishRun(int64_t run_id, absl::string_view status,
                                  uint64_t targets, double duration_s) {
  absl::Status s = Flush();
  if (!s.ok()) return s;
  absl::StatusOr<Stmt> update = Prepare(
      db(), "UPDATE scan_runs SET finished = ?1, status = ?2, targets = ?3, "
            "results = ?4, tls = ?5, duration_s = ?6 WHERE id = ?7");
  if (!update.ok()) return update.status();
  sqlite3_stmt* st = update->get();
  BindInt(st, 1, time(nullptr));
  BindText(st, 2, status);
  BindInt(st, 3, static_cast<int64_t>(targets));
  BindInt(st, 4, static_cast<int64_t>(run_results_));
  BindInt(st, 5, static_cast<int64_t>(run_tls_));
  sqlite3_bind_double(st, 6, duration_s);
  BindInt(st, 7, run_id);
  if (sqlite3_step(st) != SQLITE_DONE) {
    return SqliteError(db(), path_, "record the run's end");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RunInfo>> Inventory::Runs(int limit) {
  absl::StatusOr<Stmt> select = Prepare(
      db(), "SELECT id, started, coalesce(finished, 0), status, targets, "
            "results, tls, duration_s, coalesce(options, '') FROM scan_runs "
            "ORDER BY id DESC LIMIT ?1");
  if (!select.ok()) return select.status();
  BindInt(select->get(), 1, limit);
  std::vector<RunInfo> out;
  sqlite3_stmt* st = select->get();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    RunInfo r;
    r.id = sqlite3_column_int64(st, 0);
    r.started_unix = sqlite3_column_int64(st, 1);
    r.finished_unix = sqlite3_column_int64(st, 2);
    r.status = ColumnText(st, 3);
    r.targets = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
    r.results = static_cast<uint64_t>(sqlite3_column_int64(st, 5));
    r.tls = static_cast<uint64_t>(sqlite3_column_int64(st, 6));
    r.duration_s = sqlite3_column_double(st, 7);
    r.options = ColumnText(st, 8);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(db(), path_, "list runs");
  return out;
}

}  // namespace ers

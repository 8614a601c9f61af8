#include "inventory/inventory.h"

#include <unistd.h>

#include <ctime>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "sweep/record_json.h"

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

// kMigrations[v] takes a file from schema version v to v + 1. Version 0 is
// a file with no version (ers 0.1, whose tables kSchema also creates);
// version 1 adds the index on sightings' endpoints; version 2 records
// whether a run was spooled.
constexpr const char* kMigrations[] = {
    "PRAGMA user_version = 1;",
    "CREATE INDEX IF NOT EXISTS sightings_endpoint ON sightings (ip, port, name);"
    "PRAGMA user_version = 2;",
    // Version 3: whether a run's batches reached the spool. Runs written
    // before it were spooled (or had no CLM) by the release that wrote them.
    "ALTER TABLE scan_runs ADD COLUMN spooled INTEGER NOT NULL DEFAULT 1;"
    "PRAGMA user_version = 3;",
    // Version 4: what a run covered (configured sweep, ad-hoc targets, an
    // import) and its results by outcome. Imports were marked in options.
    "ALTER TABLE scan_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'configured';"
    "ALTER TABLE scan_runs ADD COLUMN outcomes TEXT;"
    "ALTER TABLE scan_runs ADD COLUMN error TEXT;"
    "UPDATE scan_runs SET kind = 'import' WHERE options LIKE '%\"import\":true%';"
    "PRAGMA user_version = 4;",
    // Version 5: the STARTTLS protocol an endpoint was upgraded with (NULL
    // for implicit TLS, as every result before it was).
    "ALTER TABLE endpoint_results ADD COLUMN starttls TEXT;"
    "PRAGMA user_version = 5;",
    // Version 6: the certificates this client requested from the CLM (ers
    // request, ers renew), where their files are, and what became of them.
    "CREATE TABLE cert_requests (request_id TEXT PRIMARY KEY, common_name TEXT NOT NULL, "
    "  names TEXT NOT NULL, key_type TEXT NOT NULL, days INTEGER NOT NULL, "
    "  files TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', "
    "  clm_id INTEGER NOT NULL DEFAULT 0, serial TEXT NOT NULL DEFAULT '', "
    "  not_after INTEGER NOT NULL DEFAULT 0, certificate_sha256 TEXT NOT NULL DEFAULT '', "
    "  renews TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE INDEX cert_requests_files ON cert_requests (files);"
    "PRAGMA user_version = 6;",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == Inventory::kSchemaVersion,
              "one migration per schema version");

std::string FindingsJson(const ChainInfo& chain) {
  nlohmann::json findings = nlohmann::json::array();
  for (const FindingInfo& f : chain.findings) {
    nlohmann::json j = {{"id", f.id}, {"severity", f.severity},
                        {"message", f.message}, {"cert", f.cert}};
    if (f.id == "expiring_soon") j["days_left"] = f.days_left;
    findings.push_back(std::move(j));
  }
  return findings.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<sqlite3_stmt*> Inventory::Prepared(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    absl::StatusOr<Stmt> st = Prepare(db(), sql);
    if (!st.ok()) return st.status();
    it = statements_.emplace(sql, *std::move(st)).first;
  }
  sqlite3_reset(it->second.get());
  sqlite3_clear_bindings(it->second.get());
  return it->second.get();
}

absl::Status Inventory::StepPrepared(const char* sql, const char* what) {
  absl::StatusOr<sqlite3_stmt*> st = Prepared(sql);
  if (!st.ok()) return st.status();
  absl::Status s;
  if (sqlite3_step(*st) != SQLITE_DONE) s = SqliteError(db(), path_, what);
  sqlite3_reset(*st);  // a finished statement holds no lock
  return s;
}

absl::Status Inventory::StoreCertificate(const std::string& der,
                                         const CertificateInfo& c, int64_t seen) {
  // Each certificate is written once per process: known ones get their
  // last-seen time moved, new ones are inserted with their parsed fields.
  if (stored_.contains(c.sha256_hex)) return absl::OkStatus();
  // Bounded: a sweep of millions of distinct certificates (a remote's
  // choice) must not grow this set without end; forgetting only costs one
  // UPDATE when a certificate comes back.
  if (stored_.size() >= kMaxRemembered) stored_.clear();
  stored_.insert(c.sha256_hex);
  absl::StatusOr<sqlite3_stmt*> touch = Prepared(
      "UPDATE certificates SET last_seen = max(last_seen, ?2) WHERE sha256 = ?1");
  if (!touch.ok()) return touch.status();
  BindText(*touch, 1, c.sha256_hex);
  BindInt(*touch, 2, seen);
  if (sqlite3_step(*touch) != SQLITE_DONE) {
    return SqliteError(db(), path_, "update a certificate");
  }
  if (sqlite3_changes(db()) > 0) return absl::OkStatus();
  absl::StatusOr<sqlite3_stmt*> insert = Prepared(
      "INSERT INTO certificates (sha256, der, subject, subject_cn, issuer, "
      "issuer_cn, issuer_org, serial, not_before, not_after, key_type, "
      "key_bits, key_curve, signature_algorithm, self_signed, is_ca, "
      "first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
      "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)");
  if (!insert.ok()) return insert.status();
  sqlite3_stmt* st = *insert;
  BindText(st, 1, c.sha256_hex);
  BindBlob(st, 2, der);
  // Unparsable certificates are kept (raw DER) with no fields.
  if (c.parsed) {
    BindText(st, 3, c.subject);
    BindText(st, 4, c.subject_cn);
    BindText(st, 5, c.issuer);
    BindText(st, 6, c.issuer_cn);
    BindText(st, 7, c.issuer_org);
    BindText(st, 8, c.serial_hex);
    BindInt(st, 9, c.not_before_unix);
    BindInt(st, 10, c.not_after_unix);
    BindText(st, 11, c.key_type);
    BindInt(st, 12, c.key_bits);
    BindText(st, 13, c.key_curve);
    BindText(st, 14, c.signature_algorithm);
    BindInt(st, 15, c.self_signed);
    BindInt(st, 16, c.is_ca);
  }
  BindInt(st, 17, seen);
  if (sqlite3_step(st) != SQLITE_DONE) {
    stored_.erase(c.sha256_hex);
    return SqliteError(db(), path_, "store a certificate");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Inventory>> Inventory::Open(
    const std::string& path) {
  absl::StatusOr<SqliteDb> db = OpenSqlite(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<Inventory> inv(new Inventory(*std::move(db), path));
  // WAL with synchronous=NORMAL: a commit survives the process being killed
  // (not a power cut, which costs at most the last commits) without an
  // fsync per commit.
  absl::Status s = SqlExec(inv->db(), "PRAGMA synchronous = NORMAL;", path);
  if (s.ok()) s = inv->Migrate();
  if (!s.ok()) return s;
  absl::StatusOr<std::unique_ptr<ConfigStore>> config =
      ConfigStore::Attach(inv->db(), path);
  if (!config.ok()) return config.status();
  inv->config_ = *std::move(config);
  return inv;
}

absl::Status Inventory::Migrate() {
  absl::StatusOr<Stmt> st = Prepare(db(), "PRAGMA user_version");
  if (!st.ok()) return st.status();
  if (sqlite3_step(st->get()) != SQLITE_ROW) return SqliteError(db(), path_, "read the schema version");
  int version = sqlite3_column_int(st->get(), 0);
  st->reset();
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " has inventory schema version ", version, "; this ers reads up to ",
        kSchemaVersion, ": use a newer ers"));
  }
  if (version == kSchemaVersion) {
    schema_version_ = version;
    return absl::OkStatus();
  }
  // One transaction: a file is upgraded whole or not at all.
  absl::Status s = SqlExec(db(), "BEGIN IMMEDIATE;", path_);
  if (s.ok()) s = SqlExec(db(), kSchema, path_);
  for (int v = version; s.ok() && v < kSchemaVersion; ++v) {
    s = SqlExec(db(), kMigrations[v], path_);
  }
  if (s.ok()) s = SqlExec(db(), "COMMIT;", path_);
  if (!s.ok()) {
    (void)SqlExec(db(), "ROLLBACK;", path_);
    return s;
  }
  schema_version_ = kSchemaVersion;
  return absl::OkStatus();
}

Inventory::~Inventory() { (void)Commit(); }

absl::Status Inventory::EnsureTransaction() {
  if (in_transaction_) return absl::OkStatus();
  absl::Status s = SqlExec(db(), "BEGIN IMMEDIATE;", path_);
  if (s.ok()) in_transaction_ = true;
  return s;
}

absl::Status Inventory::Commit(absl::string_view resume_point) {
  if (!resume_point.empty()) {
    // The resume point goes into the same transaction as the results it
    // covers: after a crash, both or neither are there.
    absl::Status s = EnsureTransaction();
    if (!s.ok()) return s;
    absl::StatusOr<sqlite3_stmt*> st = Prepared(
        "INSERT INTO settings (key, value) VALUES ('resume_point', ?1) "
        "ON CONFLICT(key) DO UPDATE SET value = ?1");
    if (!st.ok()) return st.status();
    BindText(*st, 1, resume_point);
    if (sqlite3_step(*st) != SQLITE_DONE) {
      return SqliteError(db(), path_, "record the resume point");
    }
  }
  if (!in_transaction_) return absl::OkStatus();
  in_transaction_ = false;
  pending_ = 0;
  absl::Status s = SqlExec(db(), "COMMIT;", path_);
  if (!s.ok()) {
    (void)SqlExec(db(), "ROLLBACK;", path_);
    stored_.clear();
  }
  return s;
}

absl::StatusOr<std::string> Inventory::ResumePoint() {
  absl::StatusOr<std::optional<std::string>> v = config_->GetSetting("resume_point");
  if (!v.ok()) return v.status();
  return v->value_or("");
}

absl::Status Inventory::ClearResumePoint() { return config_->ClearSetting("resume_point"); }

const char* RunKindName(RunKind kind) {
  switch (kind) {
    case RunKind::kConfigured:
      return "configured";
    case RunKind::kAdHoc:
      return "adhoc";
    case RunKind::kImport:
      return "import";
  }
  return "configured";
}

absl::StatusOr<int64_t> Inventory::BeginRun(absl::string_view options_json, RunKind kind,
                                            bool for_clm) {
  // The caller holds the scan lock, so a run still "running" was killed.
  absl::Status s = SqlExec(db(), kMarkKilled, path_);
  if (!s.ok()) return s;
  absl::StatusOr<Stmt> insert = Prepare(
      db(), "INSERT INTO scan_runs (started, status, pid, options, spooled, kind) "
            "VALUES (?1, 'running', ?2, ?3, ?4, ?5)");
  if (!insert.ok()) return insert.status();
  BindInt(insert->get(), 1, time(nullptr));
  BindInt(insert->get(), 2, getpid());
  BindText(insert->get(), 3, options_json);
  BindInt(insert->get(), 4, for_clm ? 0 : 1);  // not for the CLM: nothing to spool
  BindText(insert->get(), 5, RunKindName(kind));
  if (sqlite3_step(insert->get()) != SQLITE_DONE) {
    return SqliteError(db(), path_, "record the run");
  }
  run_results_ = 0;
  run_tls_ = 0;
  run_outcomes_.clear();
  return sqlite3_last_insert_rowid(db());
}

absl::Status Inventory::AddRecord(int64_t run_id, const ScanRecord& record) {
  ++run_results_;
  ++run_outcomes_[OutcomeName(record.result.outcome)];
  if (record.result.outcome != Outcome::kTls) return absl::OkStatus();
  if (record.chain == nullptr || record.result.chain.empty() ||
      record.chain->certificates.size() != record.result.chain.size()) {
    return absl::InvalidArgumentError("TLS record without its chain");
  }
  absl::Status s = EnsureTransaction();
  if (!s.ok()) return s;
  // A record is stored whole or not at all.
  s = StepPrepared("SAVEPOINT record", "open a savepoint");
  if (!s.ok()) return s;
  s = StoreTls(run_id, record);
  if (!s.ok()) {
    (void)SqlExec(db(), "ROLLBACK TO record; RELEASE record;", path_);
    stored_.clear();  // what this record inserted is gone again
    return s;
  }
  s = StepPrepared("RELEASE record", "release a savepoint");
  if (!s.ok()) return s;
  ++run_tls_;
  // Without checkpoints (ers import) commit in batches.
  if (++pending_ >= kBatch * 20) return Commit();
  return absl::OkStatus();
}

absl::Status Inventory::AddResultLine(int64_t run_id, absl::string_view line) {
  absl::StatusOr<ScanRecord> record = RecordFromJson(line);
  if (!record.ok()) {
    ++run_results_;
    return record.status();
  }
  return AddRecord(run_id, *record);
}

const std::pair<std::string, std::string>& Inventory::ChainText(
    const std::shared_ptr<const ChainInfo>& chain) {
  auto it = chain_text_.find(chain.get());
  if (it != chain_text_.end()) return it->second.text;
  if (chain_text_.size() >= 4096) chain_text_.clear();
  nlohmann::json ids = nlohmann::json::array();
  for (const CertificateInfo& c : chain->certificates) ids.push_back(c.sha256_hex);
  ChainTextEntry entry{chain, {ids.dump(), FindingsJson(*chain)}};
  return chain_text_.emplace(chain.get(), std::move(entry)).first->second.text;
}

absl::Status Inventory::StoreTls(int64_t run_id, const ScanRecord& record) {
  const ProbeResult& r = record.result;
  const ChainInfo& chain = *record.chain;
  const int64_t seen = r.start_unix_ms > 0 ? r.start_unix_ms / 1000
                                            : static_cast<int64_t>(time(nullptr));
  for (size_t i = 0; i < r.chain.size(); ++i) {
    absl::Status stored = StoreCertificate(r.chain[i], chain.certificates[i], seen);
    if (!stored.ok()) return stored;
  }
  const std::string ip = r.address.ToString();
  const std::string& leaf_sha256 = chain.certificates[0].sha256_hex;
  absl::StatusOr<sqlite3_stmt*> sighting = Prepared(
      "INSERT INTO sightings (cert_sha256, ip, port, name, sni, first_seen, "
      "last_seen, first_run, last_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, "
      "?7, ?7) ON CONFLICT(cert_sha256, ip, port, name) DO UPDATE SET "
      "last_seen = max(last_seen, ?6), last_run = ?7, sni = ?5");
  if (!sighting.ok()) return sighting.status();
  sqlite3_stmt* st = *sighting;
  BindText(st, 1, leaf_sha256);
  BindText(st, 2, ip);
  BindInt(st, 3, r.port);
  BindText(st, 4, r.name);
  BindText(st, 5, r.sni);
  BindInt(st, 6, seen);
  BindInt(st, 7, run_id);
  if (sqlite3_step(st) != SQLITE_DONE) {
    return SqliteError(db(), path_, "store a sighting");
  }
  const std::pair<std::string, std::string>& text = ChainText(record.chain);
  absl::StatusOr<sqlite3_stmt*> result = Prepared(
      "INSERT OR REPLACE INTO endpoint_results (run_id, ip, port, name, sni, "
      "leaf_sha256, chain, tls_version, cipher, trusted, findings, seen, starttls) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  if (!result.ok()) return result.status();
  st = *result;
  BindInt(st, 1, run_id);
  BindText(st, 2, ip);
  BindInt(st, 3, r.port);
  BindText(st, 4, r.name);
  BindText(st, 5, r.sni);
  BindText(st, 6, leaf_sha256);
  BindText(st, 7, text.first);
  BindText(st, 8, r.version_name);
  BindText(st, 9, r.cipher);
  BindInt(st, 10, chain.analysed && chain.trusted);
  BindText(st, 11, text.second);
  BindInt(st, 12, seen);
  if (r.starttls != Starttls::kNone) BindText(st, 13, StarttlsName(r.starttls));
  if (sqlite3_step(st) != SQLITE_DONE) {
    return SqliteError(db(), path_, "store an endpoint result");
  }
  return absl::OkStatus();
}

absl::Status Inventory::MarkKilledRuns() { return SqlExec(db(), kMarkKilled, path_); }

absl::StatusOr<std::vector<int64_t>> Inventory::UnspooledRuns() {
  std::vector<int64_t> runs;
  absl::Status s = SqlQuery(db(), path_, "list unspooled runs",
                            "SELECT id FROM scan_runs WHERE spooled = 0 AND status != 'running' "
                            "ORDER BY id",
                            {}, [&](sqlite3_stmt* st) { runs.push_back(sqlite3_column_int64(st, 0)); });
  if (!s.ok()) return s;
  return runs;
}

absl::Status Inventory::MarkSpooled(int64_t run_id) {
  return SqlQuery(db(), path_, "mark a run spooled",
                  "UPDATE scan_runs SET spooled = 1 WHERE id = ?1", {run_id}, nullptr);
}

absl::Status Inventory::FinishRun(int64_t run_id, absl::string_view status,
                                  uint64_t targets, double duration_s,
                                  absl::string_view error) {
  absl::Status s = Commit();
  if (!s.ok()) return s;
  absl::StatusOr<Stmt> update = Prepare(
      db(), "UPDATE scan_runs SET finished = ?1, status = ?2, targets = ?3, "
            "results = ?4, tls = ?5, duration_s = ?6, outcomes = ?8, error = ?9 WHERE id = ?7");
  if (!update.ok()) return update.status();
  sqlite3_stmt* st = update->get();
  BindInt(st, 1, time(nullptr));
  BindText(st, 2, status);
  BindInt(st, 3, static_cast<int64_t>(targets));
  BindInt(st, 4, static_cast<int64_t>(run_results_));
  BindInt(st, 5, static_cast<int64_t>(run_tls_));
  sqlite3_bind_double(st, 6, duration_s);
  BindInt(st, 7, run_id);
  BindText(st, 8, nlohmann::json(run_outcomes_).dump());
  if (!error.empty()) BindText(st, 9, error);
  if (sqlite3_step(st) != SQLITE_DONE) {
    return SqliteError(db(), path_, "record the run's end");
  }
  return absl::OkStatus();
}

namespace {

constexpr const char* kRunColumns =
    "SELECT id, started, coalesce(finished, 0), status, targets, results, tls, duration_s, "
    "coalesce(options, ''), kind, spooled, coalesce(outcomes, ''), coalesce(error, '') "
    "FROM scan_runs ";

RunInfo ReadRun(sqlite3_stmt* st) {
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
  r.kind = ColumnText(st, 9);
  r.spooled = sqlite3_column_int64(st, 10) != 0;
  r.error = ColumnText(st, 12);
  // Written by FinishRun; a run that never finished has none.
  const nlohmann::json outcomes = nlohmann::json::parse(ColumnText(st, 11), nullptr, false);
  if (outcomes.is_object()) {
    for (const auto& [name, n] : outcomes.items()) {
      if (n.is_number_unsigned()) r.outcomes[name] = n.get<uint64_t>();
    }
  }
  return r;
}

}  // namespace

absl::StatusOr<std::vector<RunInfo>> Inventory::Runs(int limit) {
  std::vector<RunInfo> out;
  absl::Status s = SqlQuery(db(), path_, "list runs",
                            absl::StrCat(kRunColumns, "ORDER BY id DESC LIMIT ?1").c_str(),
                            {limit}, [&](sqlite3_stmt* st) { out.push_back(ReadRun(st)); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<RunInfo> Inventory::Run(int64_t run_id) {
  std::optional<RunInfo> run;
  absl::Status s = SqlQuery(db(), path_, "read a run",
                            absl::StrCat(kRunColumns, "WHERE id = ?1").c_str(), {run_id},
                            [&](sqlite3_stmt* st) { run = ReadRun(st); });
  if (!s.ok()) return s;
  if (!run.has_value()) {
    return absl::NotFoundError(absl::StrCat("no run ", run_id, " in ", path_,
                                            " (ers runs lists them)"));
  }
  return *run;
}

}  // namespace ers

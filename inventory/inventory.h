// inventory.h: the embedded certificate inventory, the one owner of the
// SQLite file: the discover configuration (config()), scan runs,
// certificates, sightings, per-run endpoint results and the resume point,
// under a schema version with forward migrations. Certificates are stored once, keyed by
// SHA-256; sightings are keyed by (certificate, address, port, name) with
// first and last seen; every scan run is recorded, with the TLS endpoints it
// found, so that changes between runs can be queried. Writes are batched in
// transactions: a killed scan leaves a consistent database (its run stays
// "running" and is marked "killed" by the next one).
#ifndef ERS_INVENTORY_INVENTORY_H_
#define ERS_INVENTORY_INVENTORY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "base/sqlite_db.h"
#include "ers/record.h"
#include "ers/sweep.h"
#include "inventory/config_store.h"

namespace ers {

// RunKind says what a run covered. Reports describe and compare configured
// sweeps; ad-hoc scans (targets on the command line) and imports are kept
// and listed, but never become "the latest scan".
enum class RunKind { kConfigured, kAdHoc, kImport };
// RunKindName returns "configured", "adhoc" or "import".
const char* RunKindName(RunKind kind);

// RunInfo describes one scan run.
struct RunInfo {
  int64_t id = 0;
  std::string kind;  // RunKindName
  bool spooled = false;  // its batches reached the spool (or it is not for the CLM)
  int64_t started_unix = 0;
  int64_t finished_unix = 0;
  std::string status;  // running, done, interrupted, failed, killed
  uint64_t targets = 0;
  uint64_t results = 0;
  uint64_t tls = 0;
  double duration_s = 0;
  std::string options;  // JSON
  // outcomes counts the run's results by outcome name ({"tls": 3, ...}).
  std::map<std::string, uint64_t> outcomes;
  std::string error;  // why it failed, when it did
};

class Inventory {
 public:
  // kSchemaVersion is the schema this release writes (PRAGMA user_version).
  // Open upgrades older files in one transaction; a newer file is refused
  // (kFailedPrecondition) rather than misread.
  static constexpr int kSchemaVersion = 6;

  // Open opens (creating) the inventory at |path|, creating its parent
  // directory with mode 0700, and migrates it to kSchemaVersion.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Inventory>> Open(
      const std::string& path);
  ~Inventory();  // commits what is pending
  Inventory(const Inventory&) = delete;
  Inventory& operator=(const Inventory&) = delete;

  // BeginRun records a new run of |kind| as "running" (marking runs left
  // "running" by killed processes as "killed") and returns its id. Its
  // batches go to the CLM when |for_clm| (UnspooledRuns lists it until
  // MarkSpooled).
  [[nodiscard]] absl::StatusOr<int64_t> BeginRun(absl::string_view options_json,
                                                 RunKind kind = RunKind::kConfigured,
                                                 bool for_clm = true);
  // AddRecord stores one record of run |run_id|: TLS records store their
  // certificates (once each, from the record's parsed ChainInfo), a
  // sighting and the endpoint's result; other records only count. Writes
  // go into one open transaction, committed by Commit (or every kBatch
  // TLS records when no checkpoints come).
  [[nodiscard]] absl::Status AddRecord(int64_t run_id, const ScanRecord& record);
  // AddResultLine imports one JSON line of the result schema (ers import).
  // Malformed lines are kInvalidArgument (nothing is stored for them).
  [[nodiscard]] absl::Status AddResultLine(int64_t run_id, absl::string_view line);
  // Commit stores |resume_point| (when not empty) in the same transaction as
  // the records before it, and commits.
  [[nodiscard]] absl::Status Commit(absl::string_view resume_point = "");
  [[nodiscard]] absl::Status Flush() { return Commit(); }

  // ResumePoint returns the stored resume point ("" when none);
  // ClearResumePoint removes it (a sweep that finished).
  [[nodiscard]] absl::StatusOr<std::string> ResumePoint();
  [[nodiscard]] absl::Status ClearResumePoint();

  // config is the discover configuration, on the same connection.
  ConfigStore& config() { return *config_; }
  int schema_version() const { return schema_version_; }

  // FinishRun commits and records the run's end, with |error| saying why
  // when it failed.
  [[nodiscard]] absl::Status FinishRun(int64_t run_id, absl::string_view status,
                                       uint64_t targets, double duration_s,
                                       absl::string_view error = "");

  // UnspooledRuns returns the runs, finished or not (killed, interrupted),
  // whose upload batches never reached the spool, oldest first; a running
  // one is left to its process. MarkSpooled records that run |run_id|'s
  // batches are all spooled.
  [[nodiscard]] absl::StatusOr<std::vector<int64_t>> UnspooledRuns();
  // MarkKilledRuns marks runs left "running" as "killed"; the caller holds
  // the scan lock, so no process is running them.
  [[nodiscard]] absl::Status MarkKilledRuns();
  [[nodiscard]] absl::Status MarkSpooled(int64_t run_id);

  // Runs returns the most recent runs, newest first.
  [[nodiscard]] absl::StatusOr<std::vector<RunInfo>> Runs(int limit);
  // Run returns run |run_id| (kNotFound when there is none).
  [[nodiscard]] absl::StatusOr<RunInfo> Run(int64_t run_id);

  sqlite3* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

  static constexpr int kBatch = 500;
  // kMaxRemembered bounds the certificates remembered as already written.
  static constexpr size_t kMaxRemembered = 100000;

 private:
  Inventory(SqliteDb db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}
  absl::Status Migrate();
  absl::Status EnsureTransaction();
  absl::Status StoreTls(int64_t run_id, const ScanRecord& record);
  absl::Status StoreCertificate(const std::string& der, const CertificateInfo& c,
                                int64_t seen);
  // Prepared returns the cached statement for |sql|, reset and unbound.
  absl::StatusOr<sqlite3_stmt*> Prepared(const char* sql);
  // StepPrepared runs the statement |sql| (no bindings, no rows); |what|
  // names it in errors.
  absl::Status StepPrepared(const char* sql, const char* what);
  // ChainText returns the chain's SHA-256 list and findings as JSON text,
  // rendered once per ChainInfo.
  const std::pair<std::string, std::string>& ChainText(
      const std::shared_ptr<const ChainInfo>& chain);

  SqliteDb db_;
  std::string path_;
  std::unique_ptr<ConfigStore> config_;
  int schema_version_ = 0;
  bool in_transaction_ = false;
  int pending_ = 0;
  uint64_t run_results_ = 0;
  uint64_t run_tls_ = 0;
  std::map<std::string, uint64_t> run_outcomes_;
  absl::flat_hash_map<const char*, Stmt> statements_;
  // Certificates written in this process (their last_seen is moved once).
  absl::flat_hash_set<std::string> stored_;
  struct ChainTextEntry {
    std::shared_ptr<const ChainInfo> pin;  // keeps the key's address unique
    std::pair<std::string, std::string> text;
  };
  absl::flat_hash_map<const ChainInfo*, ChainTextEntry> chain_text_;
};

// InventorySink stores a sweep's records as run |run_id| and, at each
// checkpoint, commits them together with the resume point.
class InventorySink : public Sink {
 public:
  InventorySink(Inventory* inventory, int64_t run_id)
      : inventory_(inventory), run_id_(run_id) {}
  absl::Status Record(const ScanRecord& record) override {
    return inventory_->AddRecord(run_id_, record);
  }
  absl::Status Checkpoint(const std::string& resume_point) override {
    return inventory_->Commit(resume_point);
  }

 private:
  Inventory* inventory_;
  int64_t run_id_;
};

}  // namespace ers

#endif  // ERS_INVENTORY_INVENTORY_H_

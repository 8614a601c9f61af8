// inventory.h: the embedded certificate inventory (SQLite, the same file as
// the discover configuration). Certificates are stored once, keyed by
// SHA-256; sightings are keyed by (certificate, address, port, name) with
// first and last seen; every scan run is recorded, with the TLS endpoints it
// found, so that changes between runs can be queried. Writes are batched in
// transactions: a killed scan leaves a consistent database (its run stays
// "running" and is marked "killed" by the next one).
#ifndef ERS_CLI_INVENTORY_H_
#define ERS_CLI_INVENTORY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/sqlite_db.h"

namespace ers {

// RunInfo describes one scan run.
struct RunInfo {
  int64_t id = 0;
  int64_t started_unix = 0;
  int64_t finished_unix = 0;
  std::string status;  // running, done, interrupted, failed, killed
  uint64_t targets = 0;
  uint64_t results = 0;
  uint64_t tls = 0;
  double duration_s = 0;
  std::string options;  // JSON
};

class Inventory {
 public:
  // Open opens (creating) the inventory tables in the database at |path|.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Inventory>> Open(
      const std::string& path);
  ~Inventory();  // commits what is pending
  Inventory(const Inventory&) = delete;
  Inventory& operator=(const Inventory&) = delete;

  // BeginRun records a new run as "running" (marking runs left "running" by
  // killed processes as "killed") and returns its id.
  [[nodiscard]] absl::StatusOr<int64_t> BeginRun(absl::string_view options_json);
  // AddResultLine imports one JSON line of the result schema into run
  // |run_id|. Lines that are not TLS results only count. Malformed lines are
  // kInvalidArgument (nothing is stored for them). Writes are buffered in a
  // transaction committed every kBatch lines and by Flush.
  [[nodiscard]] absl::Status AddResultLine(int64_t run_id, absl::string_view line);
  [[nodiscard]] absl::Status Flush();
  // SetCheckpoint makes every commit also store |checkpoint|'s text as the
  // inventory's resume point (settings "resume_point"), in the same
  // transaction. Commits happen every kBatch TLS results or
  // kCommitIntervalNs, whichever first. Pass nullptr to stop.
  void SetCheckpoint(std::function<absl::StatusOr<std::string>()> checkpoint) {
    checkpoint_ = std::move(checkpoint);
  }

  // FinishRun commits and records the run's end.
  [[nodiscard]] absl::Status FinishRun(int64_t run_id, absl::string_view status,
                                       uint64_t targets, double duration_s);

  // Runs returns the most recent runs, newest first.
  [[nodiscard]] absl::StatusOr<std::vector<RunInfo>> Runs(int limit);

  sqlite3* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

  static constexpr int kBatch = 500;
  static constexpr uint64_t kCommitIntervalNs = 50'000'000;

 private:
  Inventory(SqliteDb db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}
  absl::Status EnsureTransaction();
  absl::Status WriteResumePoint(const std::string& point);
  absl::Status ImportTls(int64_t run_id, const std::string& line);
  absl::Status StoreCertificate(const std::string& sha256,
                                const std::string& der, int64_t seen);

  SqliteDb db_;
  std::string path_;
  bool in_transaction_ = false;
  std::function<absl::StatusOr<std::string>()> checkpoint_;
  uint64_t last_commit_ns_ = 0;
  int pending_ = 0;
  uint64_t run_results_ = 0;
  uint64_t run_tls_ = 0;
};

}  // namespace ers

#endif  // ERS_CLI_INVENTORY_H_

// spool.h: batches waiting for the CLM, one file each in a directory only
// the user can read. A batch is written atomically (temporary file, fsync,
// rename) before any attempt to send it, and removed only after the CLM
// acknowledged it: a crash anywhere in between loses nothing, and the
// batch's id makes a repeated send harmless.
#ifndef ERS_UPLOAD_SPOOL_H_
#define ERS_UPLOAD_SPOOL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ers {

// kDefaultSpoolMaxBytes bounds the waiting batches: generous (months of
// daily sweeps of a /16), but not the whole disk when the CLM is gone.
inline constexpr uint64_t kDefaultSpoolMaxBytes = uint64_t{1} << 30;

class Spool {
 public:
  // Spool uses |dir|, created (mode 0700) on first write, and holds at most
  // |max_bytes| of waiting batches.
  explicit Spool(std::string dir, uint64_t max_bytes = kDefaultSpoolMaxBytes)
      : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  // Add stores |body| for batch |batch_id|; files sort in the order added.
  // When the waiting batches and |body| would exceed the bound it stores
  // nothing and returns kResourceExhausted saying so.
  [[nodiscard]] absl::Status Add(const std::string& batch_id, const std::string& body);
  // Fits reports whether |bytes| more fit under the bound. It counts the
  // waiting batches once and then keeps the count as this Spool adds (a
  // run of a thousand batches is not a thousand directory listings); a
  // Remove, Reject or RetryRejected counts afresh next time.
  bool Fits(uint64_t bytes) const;
  uint64_t max_bytes() const { return max_bytes_; }

  // Reject moves |file|, which the CLM refused for good (it would refuse it
  // again), out of the queue into rejected/, with |reason| beside it. Later
  // batches are no longer held up by it.
  [[nodiscard]] absl::Status Reject(const std::string& file, const std::string& reason);
  struct RejectedBatch {
    std::string file;
    std::string reason;
  };
  // Rejected lists the rejected batches, oldest first.
  [[nodiscard]] absl::StatusOr<std::vector<RejectedBatch>> Rejected() const;
  // RetryRejected puts every rejected batch back in the queue (in its
  // original place in the order) and returns how many.
  [[nodiscard]] absl::StatusOr<int> RetryRejected();
  // Pending returns the waiting batch files, oldest first.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> Pending() const;
  // Read returns a batch file's contents.
  [[nodiscard]] absl::StatusOr<std::string> Read(const std::string& file) const;
  // Remove deletes an acknowledged batch.
  [[nodiscard]] absl::Status Remove(const std::string& file);
  // Bytes returns the total size of the waiting batches.
  uint64_t Bytes() const;

  const std::string& dir() const { return dir_; }

 private:
  std::string RejectedDir() const { return dir_ + "/rejected"; }

  std::string dir_;
  uint64_t max_bytes_;
  uint64_t sequence_ = 0;
  // The waiting bytes as last counted, plus what Add wrote since.
  mutable std::optional<uint64_t> counted_;
};

// SpoolDir returns the spool of the inventory at |db_path|.
inline std::string SpoolDir(const std::string& db_path) { return db_path + ".spool"; }

}  // namespace ers

#endif  // ERS_UPLOAD_SPOOL_H_

// spool.h: batches waiting for the CLM, one file each in a directory only
// the user can read. A batch is written atomically (temporary file, fsync,
// rename) before any attempt to send it, and removed only after the CLM
// acknowledged it: a crash anywhere in between loses nothing, and the
// batch's id makes a repeated send harmless.
#ifndef ERS_UPLOAD_SPOOL_H_
#define ERS_UPLOAD_SPOOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ers {

class Spool {
 public:
  // Spool uses |dir|, created (mode 0700) on first write.
  explicit Spool(std::string dir) : dir_(std::move(dir)) {}

  // Add stores |body| for batch |batch_id|; files sort in the order added.
  [[nodiscard]] absl::Status Add(const std::string& batch_id, const std::string& body);
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
  std::string dir_;
  uint64_t sequence_ = 0;
};

// SpoolDir returns the spool of the inventory at |db_path|.
inline std::string SpoolDir(const std::string& db_path) { return db_path + ".spool"; }

}  // namespace ers

#endif  // ERS_UPLOAD_SPOOL_H_

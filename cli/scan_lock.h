// scan_lock.h: one scan at a time per inventory. The lock is an flock on
// "<inventory>.lock", released when the process (and its workers) exit, so
// a killed scan never leaves a stale lock behind.
#ifndef ERS_CLI_SCAN_LOCK_H_
#define ERS_CLI_SCAN_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace ers {

class ScanLock {
 public:
  // Acquire takes the lock of the inventory at |db_path| without waiting.
  // kUnavailable when another scan holds it (naming its pid).
  [[nodiscard]] static absl::StatusOr<ScanLock> Acquire(const std::string& db_path);
  ScanLock(ScanLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ScanLock& operator=(ScanLock&&) = delete;
  ~ScanLock();
  // Release gives the lock up before the object ends (idempotent).
  void Release();

 private:
  explicit ScanLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ers

#endif  // ERS_CLI_SCAN_LOCK_H_

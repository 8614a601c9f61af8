// progress.h: the live progress line of `ers scan` on a terminal
// ("\r12,345/589,824 targets  1,234/s  tls 56  ETA 7m12s"), redrawn at most
// four times a second, and nothing at all when standard error is not a
// terminal (cron).
#ifndef ERS_CLI_PROGRESS_H_
#define ERS_CLI_PROGRESS_H_

#include <cstdint>
#include <cstdio>

namespace ers {

class Progress {
 public:
  // Progress draws on |out| when it is a terminal; |total| is the number of
  // targets expected.
  Progress(FILE* out, uint64_t total);
  ~Progress() { Clear(); }

  // Result counts one result (|tls| for a TLS endpoint) and redraws when
  // due.
  void Result(bool tls);
  // Clear erases the line (before the summary is printed).
  void Clear();

 private:
  void Draw(uint64_t now_ns);

  FILE* out_;
  bool enabled_;
  uint64_t total_;
  uint64_t done_ = 0;
  uint64_t tls_ = 0;
  uint64_t start_ns_;
  uint64_t last_draw_ns_ = 0;
  bool drawn_ = false;
};

}  // namespace ers

#endif  // ERS_CLI_PROGRESS_H_

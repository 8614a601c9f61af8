// progress.h: what `ers scan` shows while it runs. On a terminal, a live
// line on standard error ("12,345/589,824 targets  in flight 812  1,234/s
// tls 56  ETA 7m12s"), drawn at once and redrawn every second from a thread
// of its own (a sweep whose first result takes 10 s is not a blank
// screen). On the first stop request (Ctrl-C, SIGTERM) a line saying what
// the scan waits for, on a terminal or not (without one, and without the
// thread, the line has no count).
#ifndef ERS_CLI_PROGRESS_H_
#define ERS_CLI_PROGRESS_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "ers/sweep.h"

namespace ers {

class Progress {
 public:
  // Progress reports on |sweep| to |out|; the live line only when |live|
  // (a terminal, and standard output not carrying the results).
  Progress(FILE* out, const Sweep* sweep, bool live);
  ~Progress() { Finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Start draws the line and starts the thread that redraws it.
  void Start();
  // StopRequested is called from a signal handler (async-signal-safe): the
  // thread prints the stopping line at once.
  void StopRequested();
  // Finish stops the thread and erases the line (before the summary).
  void Finish();

 private:
  void Loop();
  void Draw();

  FILE* out_;
  int out_fd_;  // for the signal handler's write(2)
  const Sweep* sweep_;
  bool live_;
  int wake_[2] = {-1, -1};  // self-pipe: the signal handler wakes the thread
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finishing_{false};
  std::atomic<bool> announced_stop_{false};  // the thread-less stopping line
  bool threaded_ = false;  // set by Start before any signal can ask
  bool announced_ = false;
  bool drawn_ = false;
  uint64_t start_ns_ = 0;
  std::thread thread_;
};

}  // namespace ers

#endif  // ERS_CLI_PROGRESS_H_

// sigpipe.h: keeping SIGPIPE away from a process that embeds ers, without
// touching its process-wide signal dispositions.
#ifndef ERS_BASE_SIGPIPE_H_
#define ERS_BASE_SIGPIPE_H_

#include <signal.h>

namespace ers {

// ScopedSigpipeBlock blocks SIGPIPE on the calling thread for its lifetime.
// A write to a hung-up socket or pipe on this thread then fails with EPIPE
// instead of killing the process. On destruction, a SIGPIPE that became
// pending meanwhile is consumed (one that was pending before is left), and
// the thread's previous mask is restored. Other threads are unaffected.
//
//   {
//     ScopedSigpipeBlock no_sigpipe;
//     uv_run(loop, UV_RUN_DEFAULT);
//   }
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock();
  ~ScopedSigpipeBlock();
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t previous_mask_;
  bool was_blocked_ = false;
  bool was_pending_ = false;
};

}  // namespace ers

#endif  // ERS_BASE_SIGPIPE_H_

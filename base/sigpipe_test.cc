#include "base/sigpipe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace ers {
namespace {

bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

bool SigpipeBlocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

// Writes twice into a socket whose peer is gone; the second write is the
// one the kernel answers with EPIPE and SIGPIPE.
int WriteToHungUpSocket() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return -1;
  close(fds[1]);
  const char byte = 'x';
  ssize_t n = write(fds[0], &byte, 1);
  int error = n < 0 ? errno : 0;
  close(fds[0]);
  return error;
}

TEST(ScopedSigpipeBlockTest, WriteToHungUpPeerFailsWithEpipeAndNothingStaysPending) {
  ASSERT_FALSE(SigpipeBlocked());
  {
    ScopedSigpipeBlock block;
    EXPECT_TRUE(SigpipeBlocked());
    // Without the block the default disposition would end this process here.
    EXPECT_EQ(WriteToHungUpSocket(), EPIPE);
    EXPECT_TRUE(SigpipePending());
  }
  EXPECT_FALSE(SigpipePending());
  EXPECT_FALSE(SigpipeBlocked());
}

TEST(ScopedSigpipeBlockTest, KeepsACallersOwnBlockAndPendingSignal) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr), 0);
  ASSERT_EQ(WriteToHungUpSocket(), EPIPE);
  ASSERT_TRUE(SigpipePending());
  {
    ScopedSigpipeBlock block;
    EXPECT_EQ(WriteToHungUpSocket(), EPIPE);
  }
  // The caller blocked it and had one pending: both are the caller's.
  EXPECT_TRUE(SigpipeBlocked());
  EXPECT_TRUE(SigpipePending());
  const timespec no_wait = {0, 0};
  EXPECT_EQ(sigtimedwait(&pipe_only, nullptr, &no_wait), SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &pipe_only, nullptr);
}

}  // namespace
}  // namespace ers

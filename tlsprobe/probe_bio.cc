#include "tlsprobe/probe_bio.h"

#include <algorithm>
#include <cstring>

namespace ers {
namespace {

int ProbeBioRead(BIO* bio, char* out, int len) {
  auto* state = static_cast<ProbeBioState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  if (state->in_len == 0) {
    BIO_set_retry_read(bio);  // wait for the next delivery
    return -1;
  }
  size_t n = std::min(state->in_len, static_cast<size_t>(len));
  memcpy(out, state->in, n);
  state->in += n;
  state->in_len -= n;
  return static_cast<int>(n);
}

int ProbeBioWrite(BIO* bio, const char* in, int len) {
  auto* state = static_cast<ProbeBioState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  if (state->out.size() + static_cast<size_t>(len) >
      ProbeBioState::kMaxPendingOutput) {
    return -1;  // the socket is not draining: fail the handshake
  }
  state->out.append(in, static_cast<size_t>(len));
  return len;
}

long ProbeBioCtrl(BIO* bio, int cmd, long, void*) {
  auto* state = static_cast<ProbeBioState*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // the probe flushes after every handshake step
    case BIO_CTRL_PENDING:
      return static_cast<long>(state->in_len);
    case BIO_CTRL_WPENDING:
      return static_cast<long>(state->out.size());
    default:
      return 0;
  }
}

const BIO_METHOD* ProbeBioMethod() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "ers probe");
    BIO_meth_set_read(m, ProbeBioRead);
    BIO_meth_set_write(m, ProbeBioWrite);
    BIO_meth_set_ctrl(m, ProbeBioCtrl);
    return m;
  }();
  return method;
}

}  // namespace

bssl::UniquePtr<BIO> NewProbeBio(ProbeBioState* state) {
  bssl::UniquePtr<BIO> bio(BIO_new(ProbeBioMethod()));
  if (!bio) return nullptr;
  BIO_set_data(bio.get(), state);
  BIO_set_init(bio.get(), 1);
  return bio;
}

}  // namespace ers

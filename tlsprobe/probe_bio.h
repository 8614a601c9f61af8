// probe_bio.h: the BIO between a probe's SSL and its socket. It owns no
// buffer: reads are served straight from the bytes libuv just delivered (a
// span the probe sets for the duration of one handshake step), and writes
// are appended to the probe's small output string, flushed to the socket
// right after the step. An in-flight connection therefore costs no BIO
// buffers at all, where a BIO pair would hold two.
#ifndef ERS_TLSPROBE_PROBE_BIO_H_
#define ERS_TLSPROBE_PROBE_BIO_H_

#include <openssl/bio.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ers {

// ProbeBioState is what a probe BIO reads from and writes to. The probe owns
// it; the BIO only points at it.
struct ProbeBioState {
  const uint8_t* in = nullptr;  // unread bytes of the current delivery
  size_t in_len = 0;
  std::string out;  // ciphertext waiting to be written to the socket
  // kMaxPendingOutput bounds |out|: a client's flights are a few KiB.
  static constexpr size_t kMaxPendingOutput = 64 * 1024;
};

// NewProbeBio returns a BIO over |state|, which must outlive it; null on
// allocation failure.
bssl::UniquePtr<BIO> NewProbeBio(ProbeBioState* state);

}  // namespace ers

#endif  // ERS_TLSPROBE_PROBE_BIO_H_

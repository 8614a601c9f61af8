// probe.h: one endpoint's probe, a resumable state machine over a libuv TCP
// handle: connect, an optional STARTTLS dialogue (tlsprobe/starttls.h), TLS
// handshake through a buffer-less BIO, close. One enum
// holds where the probe is; each state has one method that says what the
// probe now waits for (Wait), and one driver (Advance) runs them. The libuv
// callbacks record what happened and call the driver.
//
//   kConnecting --connected--> [kUpgrading: STARTTLS, when the target has
//        ^                       a protocol] --go-ahead-->
//        |                     kHandshaking --chain--> kChainReceived
//        |                          |                       | (full mode:
//        |                          |                       |  handshake on)
//        |                          +----- done/fail -------+
//        |                          v                       v
//        +--- kReconnecting <--- retry / fallback        kClosing --> kDone
//        |         | (with a connect gate)
//        +--- kAwaitingPermit: the gate says when (the engine's --rate)
//
// The Probe is owned by its caller, who allocates it, calls Start once, and
// may free it only from (or after) the done callback: by then both handles
// are closed. The done callback never runs inside Start.
#ifndef ERS_TLSPROBE_PROBE_H_
#define ERS_TLSPROBE_PROBE_H_

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tlsprobe/client_context.h"
#include "tlsprobe/handshake_tap.h"
#include "tlsprobe/probe_bio.h"
#include "tlsprobe/starttls.h"
#include "ers/record.h"

namespace ers {

// ProbeTarget is what to connect to and which name to send.
struct ProbeTarget {
  IpAddress address;
  uint16_t port = 0;
  std::string name;  // the host name the address came from, if any
  std::string sni;   // empty: send no SNI
  Starttls starttls = Starttls::kNone;  // the plain-text upgrade, if any
};

class Probe {
 public:
  using DoneCallback = void (*)(Probe* probe, void* arg);

  // Probe prepares a probe on |loop| with |context|, which must outlive it.
  Probe(uv_loop_t* loop, const ClientContext* context);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Start begins probing |target|. |done| runs exactly once, from a later
  // loop turn, when result() is final and the probe may be freed.
  void Start(ProbeTarget target, DoneCallback done, void* arg);

  // SetConnectGate (before Start) makes every connection attempt after the
  // first (connect retries, fallback rungs) wait for permission: |gate| is
  // called, never from within Start, when the probe wants to connect again,
  // and the owner then calls Proceed (to connect) or Abandon (to finish
  // with the last attempt's outcome) once. The first attempt is the
  // owner's to pace before Start. Without a gate, reconnects are at once.
  using ConnectGate = void (*)(Probe* probe, void* arg);
  void SetConnectGate(ConnectGate gate, void* arg) {
    gate_ = gate;
    gate_arg_ = arg;
  }
  void Proceed();
  void Abandon();
  bool awaiting_permit() const { return state_ == State::kAwaitingPermit; }

  const ProbeResult& result() const { return result_; }
  ProbeResult& mutable_result() { return result_; }
  const ProbeTarget& target() const { return target_; }

  // Callbacks installed on every SSL_CTX by ClientContext.
  static enum ssl_verify_result_t VerifyCallback(SSL* ssl, uint8_t* out_alert);
  static void InfoCallback(const SSL* ssl, int type, int value);
  static void KeyLogCallback(const SSL* ssl, const char* line);

  // Bytes kept of a server's first bytes, for not_tls results.
  static constexpr size_t kFirstBytesKept = 16;

 private:
  enum class State {
    kIdle,
    kConnecting,     // TCP connect in flight
    kUpgrading,      // the STARTTLS dialogue, in plain text
    kHandshaking,    // TLS handshake, no certificate yet
    kChainReceived,  // the chain is recorded; full mode finishes the handshake
    kReconnecting,   // closing the TCP handle to connect again (next_rung_)
    kAwaitingPermit, // closed; the connect gate decides when to reconnect
    kClosing,        // closing for good; the result is final
    kDone,
  };
  // Wait is what a state's method leaves the probe waiting for.
  enum class Wait { kConnect, kRead, kWrite, kClose };

  // One method per state; Advance runs the current state's.
  Wait DoConnect();
  Wait DoUpgrade();
  Wait DoHandshake();
  Wait DoClose();
  void Advance();
  bool InHandshake() const {
    return state_ == State::kHandshaking || state_ == State::kChainReceived;
  }
  // Talking: the connection is up and this attempt is not over.
  bool Talking() const { return state_ == State::kUpgrading || InHandshake(); }
  // StartHandshake builds the SSL on the connected socket and begins.
  void StartHandshake();
  // UpgradeStep acts on what the STARTTLS dialogue says.
  void UpgradeStep(StarttlsDialog::Step step);

  // Transitions.
  void OnConnected(int status);
  void OnBytes(const uint8_t* data, size_t len);
  void OnStreamEnd(ssize_t status);
  void OnTimeout();
  void OnWritten(int status);
  void OnHandleClosed();

  // Flush moves pending ciphertext from the BIO's output to the socket; it
  // returns true if it drained anything.
  bool Flush();
  // HandshakeFailed classifies a failed SSL_do_handshake.
  void HandshakeFailed();
  // CollectNegotiated records version, cipher, group, ALPN, OCSP, SCTs.
  void CollectNegotiated();
  // Finish records the final outcome and closes; EndAttempt closes the TCP
  // handle only, to reconnect (retry or fallback) when |next_rung| >= 0.
  void Finish(Outcome outcome, std::string detail);
  void EndAttempt(int next_rung, Outcome outcome, std::string detail);
  // MaybeFallback starts the next rung when |outcome| (with BoringSSL's
  // packed error code |error|, 0 for none, and |detail|) says the server
  // rejected this rung's hello; returns true if it did.
  bool MaybeFallback(Outcome outcome, uint32_t error, const std::string& detail);

  static void ConnectCb(uv_connect_t* req, int status);
  static void AllocCb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void ReadCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void WriteCb(uv_write_t* req, int status);
  static void TimerCb(uv_timer_t* timer);
  static void CloseCb(uv_handle_t* handle);

  uv_loop_t* loop_;
  const ClientContext* context_;
  State state_ = State::kIdle;
  ProbeTarget target_;
  ProbeResult result_;
  DoneCallback done_ = nullptr;
  void* done_arg_ = nullptr;
  ConnectGate gate_ = nullptr;
  void* gate_arg_ = nullptr;
  // The outcome of the attempt that ended for a reconnect: the result if
  // the owner abandons the next attempt.
  Outcome ended_outcome_ = Outcome::kError;
  std::string ended_detail_;

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  int open_handles_ = 0;
  bool write_pending_ = false;
  std::string write_buf_;  // only while a write is queued

  std::unique_ptr<StarttlsDialog> dialog_;  // while kUpgrading
  // After BoringSSL rejected the leaf before handing over the chain, the
  // next attempt reads the chain from the records (TLS 1.2, in the clear).
  bool tap_on_ = false;
  std::string leaf_rejected_;  // BoringSSL's reason
  std::unique_ptr<HandshakeTap> tap_;
  bssl::UniquePtr<SSL> ssl_;
  ProbeBioState bio_state_;  // what the SSL's BIO reads and writes
  int rung_ = 0;
  int next_rung_ = 0;  // the rung kReconnecting connects with
  int connect_retries_left_ = 0;
  int alert_received_ = -1;
  uint64_t attempt_bytes_ = 0;  // bytes received on this connection
  uint64_t connect_start_ns_ = 0;
  uint64_t handshake_start_ns_ = 0;
};

}  // namespace ers

#endif  // ERS_TLSPROBE_PROBE_H_

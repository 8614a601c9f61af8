#include "tlsprobe/probe.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/ip_address.h"

namespace ers {
namespace {

// All probes of a loop share one read buffer: libuv hands it out in the
// alloc callback, and the read callback feeds the bytes to that probe's SSL
// before returning, so no probe keeps it. thread_local keeps one per loop
// thread. 64 KiB is four full TLS records: one read takes a whole flight.
constexpr size_t kLoopReadBufferBytes = 64 * 1024;
thread_local uint8_t loop_read_buffer[kLoopReadBufferBytes];

double MsSince(uint64_t start_ns) {
  return static_cast<double>(uv_hrtime() - start_ns) / 1e6;
}

int64_t WallClockMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

bool IsResourceError(int uv_error) {
  return uv_error == UV_EMFILE || uv_error == UV_ENFILE ||
         uv_error == UV_ENOBUFS || uv_error == UV_ENOMEM ||
         uv_error == UV_EADDRNOTAVAIL;
}

// SendNoSignal writes what the socket takes now of |data| and returns the
// count, or a libuv error (UV_EAGAIN when it takes nothing). Unlike
// uv_try_write it passes MSG_NOSIGNAL: a server that hung up turns into
// UV_EPIPE, not a SIGPIPE that would kill the embedding process.
int SendNoSignal(const uv_tcp_t& tcp, const std::string& data) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp), &fd) != 0) return UV_EBADF;
  while (true) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return UV_EAGAIN;
    return uv_translate_sys_error(errno);
  }
}

// FirstBytesAreTls reports whether |bytes| can start a server's TLS stream:
// a handshake (22) or alert (21) record of major version 3.
bool FirstBytesAreTls(const std::string& bytes) {
  if (bytes.empty()) return true;
  uint8_t type = static_cast<uint8_t>(bytes[0]);
  if (type != 21 && type != 22) return false;
  return bytes.size() < 2 || static_cast<uint8_t>(bytes[1]) == 3;
}

// ReasonText names a packed error code for people, e.g. "SSL routines:
// WRONG_VERSION_NUMBER".
std::string ReasonText(uint32_t err) {
  if (err == 0) return "handshake failed";
  const char* lib = ERR_lib_error_string(err);
  const char* reason = ERR_reason_error_string(err);
  return absl::StrCat(lib != nullptr ? lib : "unknown library", ": ",
                      reason != nullptr ? reason : "unknown reason");
}

// DrainErrorQueue reads BoringSSL's error queue once and returns its first
// reason.
std::string DrainErrorQueue() {
  uint32_t err = ERR_get_error();
  ERR_clear_error();
  return ReasonText(err);
}

// LeafRejected reports whether BoringSSL's error queue (|codes|, oldest
// first) says it refused the server's leaf itself (its key usage, its key)
// before handing the chain to the verify callback. A key it cannot parse
// (a curve such as P-192 or brainpool, Ed448, a malformed RSA key) leaves
// only the key parser's codes: before the chain is received, the leaf's
// key is the only public key a client parses.
bool LeafRejected(const std::vector<uint32_t>& codes) {
  for (uint32_t e : codes) {
    const int lib = ERR_GET_LIB(e);
    if (lib == ERR_LIB_EVP || lib == ERR_LIB_EC || lib == ERR_LIB_RSA ||
        lib == ERR_LIB_DSA) {
      return true;
    }
    if (lib != ERR_LIB_SSL) continue;
    switch (ERR_GET_REASON(e)) {
      case SSL_R_KEY_USAGE_BIT_INCORRECT:
      case SSL_R_CANNOT_PARSE_LEAF_CERT:
      case SSL_R_UNKNOWN_CERTIFICATE_TYPE:
      case SSL_R_WRONG_CERTIFICATE_TYPE:
        return true;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

Probe::Probe(uv_loop_t* loop, const ClientContext* context)
    : loop_(loop), context_(context) {
  tcp_.data = nullptr;
  timer_.data = nullptr;
}

Probe::~Probe() = default;

void Probe::Start(ProbeTarget target, DoneCallback done, void* arg) {
  target_ = std::move(target);
  done_ = done;
  done_arg_ = arg;
  result_.address = target_.address;
  result_.port = target_.port;
  result_.name = target_.name;
  result_.sni = target_.sni;
  result_.starttls = target_.starttls;
  result_.mode = context_->options().mode;
  result_.start_unix_ms = WallClockMs();
  connect_retries_left_ = context_->options().connect_retries;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  open_handles_ = 1;
  state_ = State::kConnecting;
  Advance();
}

void Probe::Advance() {
  // Each state's method runs once per event and says what comes next;
  // anything but kClose leaves the probe waiting on the loop.
  switch (state_) {
    case State::kConnecting:
      DoConnect();
      return;
    case State::kUpgrading:
      DoUpgrade();
      return;
    case State::kHandshaking:
    case State::kChainReceived:
      DoHandshake();
      return;
    case State::kReconnecting:
    case State::kClosing:
      DoClose();
      return;
    case State::kAwaitingPermit:
    case State::kIdle:
    case State::kDone:
      return;
  }
}

// --- kConnecting -----------------------------------------------------------

Probe::Wait Probe::DoConnect() {
  ++result_.attempts;
  attempt_bytes_ = 0;
  alert_received_ = -1;
  write_pending_ = false;  // a write of an earlier attempt was cancelled
  std::string().swap(write_buf_);
  std::string().swap(bio_state_.out);
  result_.first_bytes.clear();
  result_.banner.clear();
  tap_.reset();
  if (tap_on_) tap_ = std::make_unique<HandshakeTap>(context_->options().max_handshake_bytes);
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  ++open_handles_;

  sockaddr_storage storage;
  ToSockaddr(target_.address, target_.port, &storage);
  connect_req_.data = this;
  connect_start_ns_ = uv_hrtime();
  int r = uv_tcp_connect(&connect_req_, &tcp_,
                         reinterpret_cast<const sockaddr*>(&storage),
                         &Probe::ConnectCb);
  if (r < 0) {
    // No socket or no port: the engine retries these later. The done
    // callback still comes from a later loop turn (the close callback).
    Finish(IsResourceError(r)        ? Outcome::kNoResources
           : r == UV_EHOSTUNREACH ? Outcome::kUnreachable
                                  : Outcome::kError,
           absl::StrCat("connect: ", uv_strerror(r)));
    return Wait::kClose;
  }
  uv_timer_start(&timer_, &Probe::TimerCb,
                 context_->options().connect_timeout_ms, 0);
  return Wait::kConnect;
}

void Probe::OnConnected(int status) {
  if (state_ != State::kConnecting) return;
  if (status < 0) {
    switch (status) {
      case UV_ECONNREFUSED:
        Finish(Outcome::kRefused, "connection refused");
        return;
      case UV_ETIMEDOUT:
        OnTimeout();
        return;
      case UV_ECONNRESET:
        Finish(Outcome::kReset, "connection reset during connect");
        return;
      case UV_EHOSTUNREACH:
        // No answer to ARP on the local subnet, or an unreachable route:
        // nothing is there. (ENETUNREACH, no route at all from this
        // machine, stays a local error.)
        Finish(Outcome::kUnreachable, absl::StrCat("connect: ", uv_strerror(status)));
        return;
      default:
        Finish(IsResourceError(status) ? Outcome::kNoResources
                                       : Outcome::kError,
               absl::StrCat("connect: ", uv_strerror(status)));
        return;
    }
  }
  result_.connect_ms = MsSince(connect_start_ns_);
  int r = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_),
                        &Probe::AllocCb, &Probe::ReadCb);
  if (r < 0) {
    Finish(Outcome::kError, absl::StrCat("read: ", uv_strerror(r)));
    return;
  }
  if (target_.starttls != Starttls::kNone) {
    // The plain-text phase gets its own --handshake-timeout, and so does
    // the handshake after it.
    state_ = State::kUpgrading;
    dialog_ = std::make_unique<StarttlsDialog>(
        target_.starttls, !target_.name.empty() ? target_.name
                          : !target_.sni.empty() ? target_.sni
                                                 : target_.address.ToString());
    uv_timer_start(&timer_, &Probe::TimerCb, context_->options().handshake_timeout_ms, 0);
    UpgradeStep(dialog_->Start());
    return;
  }
  StartHandshake();
}

// --- kUpgrading ------------------------------------------------------------

Probe::Wait Probe::DoUpgrade() {
  if (!dialog_->output().empty()) {
    bio_state_.out.append(dialog_->output());
    dialog_->output().clear();
    Flush();
  }
  return Wait::kRead;
}

void Probe::UpgradeStep(StarttlsDialog::Step step) {
  switch (step) {
    case StarttlsDialog::Step::kRead:
      Advance();
      return;
    case StarttlsDialog::Step::kUpgrade: {
      DoUpgrade();  // our last plain-text words (MySQL's SSLRequest, ...)
      if (state_ != State::kUpgrading) return;  // the send failed
      const std::string leftover = dialog_->leftover();
      dialog_.reset();
      attempt_bytes_ = 0;
      StartHandshake();
      if (!leftover.empty()) {
        OnBytes(reinterpret_cast<const uint8_t*>(leftover.data()), leftover.size());
      }
      return;
    }
    case StarttlsDialog::Step::kRefused:
      result_.banner = dialog_->reply();
      Finish(Outcome::kStarttlsRefused,
             absl::StrCat("the server refused ", StarttlsName(target_.starttls), " STARTTLS"));
      return;
    case StarttlsDialog::Step::kNotProtocol: {
      result_.banner = dialog_->reply();
      const char* other = RecogniseBanner(dialog_->reply());
      Finish(Outcome::kNotTls,
             *other != '\0'
                 ? absl::StrCat("the server speaks ", other, ", not ", StarttlsName(target_.starttls))
                 : absl::StrCat("the server does not speak ", StarttlsName(target_.starttls)));
      return;
    }
  }
}

// --- kHandshaking ----------------------------------------------------------

void Probe::StartHandshake() {
  // TCP is up (and upgraded): only now build the SSL and its BIO.
  ssl_.reset(SSL_new(tap_on_ ? context_->tap_ctx(rung_) : context_->ctx(rung_)));
  bssl::UniquePtr<BIO> bio = NewProbeBio(&bio_state_);
  if (!ssl_ || !bio) {
    ERR_clear_error();
    Finish(Outcome::kNoResources, "out of memory for the TLS state");
    return;
  }
  BIO* raw_bio = bio.release();
  SSL_set_bio(ssl_.get(), raw_bio, raw_bio);  // the SSL owns the BIO
  SSL_set_ex_data(ssl_.get(), ClientContext::ExDataIndex(), this);
  SSL_set_connect_state(ssl_.get());
  if (!target_.sni.empty() &&
      !SSL_set_tlsext_host_name(ssl_.get(), target_.sni.c_str())) {
    Finish(Outcome::kError, absl::StrCat("SNI rejected: ", DrainErrorQueue()));
    return;
  }
  state_ = State::kHandshaking;
  handshake_start_ns_ = uv_hrtime();
  uv_timer_start(&timer_, &Probe::TimerCb,
                 context_->options().handshake_timeout_ms, 0);
  Advance();
}

Probe::Wait Probe::DoHandshake() {
  while (InHandshake()) {
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_.get());
    if (ret == 1) {
      result_.handshake_ms = MsSince(handshake_start_ns_);
      CollectNegotiated();
      Flush();
      Finish(Outcome::kTls, "");
      return Wait::kClose;
    }
    switch (SSL_get_error(ssl_.get(), ret)) {
      case SSL_ERROR_WANT_READ:
        Flush();
        return Wait::kRead;
      case SSL_ERROR_WANT_WRITE:
        if (Flush()) continue;
        return Wait::kWrite;  // WriteCb resumes us
      default:
        HandshakeFailed();
        return Wait::kClose;
    }
  }
  return Wait::kClose;
}

bool Probe::Flush() {
  std::string& out = bio_state_.out;
  if (write_pending_ || out.empty()) return false;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  int written = SendNoSignal(tcp_, out);
  if (written >= 0 && static_cast<size_t>(written) == out.size()) {
    std::string().swap(out);  // hold no memory while waiting
    return true;
  }
  if (written < 0 && written != UV_EAGAIN) {
    std::string().swap(out);
    OnWritten(written);
    return false;
  }
  // The socket took part of it: queue the rest; it stays alive until the
  // write callback, and new output collects in |out| meanwhile.
  size_t offset = written < 0 ? 0 : static_cast<size_t>(written);
  write_buf_.assign(out, offset, std::string::npos);
  std::string().swap(out);
  uv_buf_t b = uv_buf_init(&write_buf_[0], static_cast<unsigned>(write_buf_.size()));
  write_req_.data = this;
  int r = uv_write(&write_req_, stream, &b, 1, &Probe::WriteCb);
  if (r < 0) {
    OnWritten(r);
    return false;
  }
  write_pending_ = true;
  return true;
}

void Probe::OnWritten(int status) {
  write_pending_ = false;
  if (!Talking()) return;
  std::string().swap(write_buf_);
  if (status < 0) {
    if (status == UV_EPIPE || status == UV_ECONNRESET) {
      std::string detail = "connection reset while sending";
      if (!MaybeFallback(Outcome::kReset, 0, detail)) Finish(Outcome::kReset, std::move(detail));
    } else {
      Finish(Outcome::kError, absl::StrCat("write: ", uv_strerror(status)));
    }
    return;
  }
  Flush();  // output produced while this write was queued
}

void Probe::OnBytes(const uint8_t* data, size_t len) {
  if (state_ == State::kUpgrading) {
    attempt_bytes_ += len;
    result_.bytes_received += len;
    UpgradeStep(dialog_->OnBytes(absl::string_view(reinterpret_cast<const char*>(data), len)));
    return;
  }
  if (!InHandshake()) return;
  if (result_.first_bytes.size() < kFirstBytesKept) {
    const bool first = result_.first_bytes.empty();
    size_t keep = std::min(len, kFirstBytesKept - result_.first_bytes.size());
    result_.first_bytes.append(reinterpret_cast<const char*>(data), keep);
    if (!FirstBytesAreTls(result_.first_bytes)) {
      // A plain-text greeting says which protocol answered instead.
      absl::string_view bytes(reinterpret_cast<const char*>(data), len);
      const char* other = first ? RecogniseBanner(bytes) : "";
      if (first) result_.banner = PrintableLine(bytes);
      Finish(Outcome::kNotTls, *other != '\0'
                                   ? absl::StrCat("the server speaks ", other, ", not TLS")
                                   : "the server's first bytes are not TLS");
      return;
    }
  }
  attempt_bytes_ += len;
  result_.bytes_received += len;
  const uint32_t cap = context_->options().max_handshake_bytes;
  if (attempt_bytes_ > cap) {
    Finish(Outcome::kTlsError,
           absl::StrCat("handshake larger than ", cap, " bytes: cut off"));
    return;
  }
  if (tap_ != nullptr && !tap_->done()) {
    tap_->OnBytes(absl::string_view(reinterpret_cast<const char*>(data), len));
  }
  // The SSL reads these bytes through its BIO during this step; it consumes
  // them all unless the handshake ends within them.
  bio_state_.in = data;
  bio_state_.in_len = len;
  Advance();
  bio_state_.in = nullptr;
  bio_state_.in_len = 0;
}

void Probe::OnStreamEnd(ssize_t status) {
  if (!Talking()) return;
  if (status != UV_EOF && status != UV_ECONNRESET) {
    Finish(Outcome::kError,
           absl::StrCat("read: ", uv_strerror(static_cast<int>(status))));
    return;
  }
  if (state_ == State::kUpgrading) {
    // What the server said before it hung up may be a verdict (a banner).
    StarttlsDialog::Step step = dialog_->OnEnd();
    if (step != StarttlsDialog::Step::kRead) {
      UpgradeStep(step);
      return;
    }
    Finish(Outcome::kReset, attempt_bytes_ == 0 ? "closed before the STARTTLS greeting"
                                                : "closed during the STARTTLS dialogue");
    return;
  }
  if (state_ == State::kChainReceived) {
    Finish(Outcome::kTls, "connection ended after the certificate");
    return;
  }
  std::string detail =
      status == UV_ECONNRESET
          ? "connection reset by peer"
          : (attempt_bytes_ == 0 ? "closed by peer before any response"
                                 : "closed by peer mid-handshake");
  if (!MaybeFallback(Outcome::kReset, 0, detail)) Finish(Outcome::kReset, std::move(detail));
}

void Probe::HandshakeFailed() {
  // The packed codes decide; the text is for people.
  std::vector<uint32_t> codes;
  for (uint32_t e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    if (codes.size() < 16) codes.push_back(e);
  }
  const uint32_t error = codes.empty() ? 0 : codes.front();
  std::string reason = ReasonText(error);
  Flush();  // our alert, if any, best effort
  if (!InHandshake()) return;
  if (state_ == State::kHandshaking && tap_on_) {
    // The tap's attempt: the chain as the records carried it, whatever the
    // TLS library thinks of it, for the analysis to judge.
    if (tap_ != nullptr && !tap_->certificates().empty()) {
      result_.chain = tap_->certificates();
      result_.handshake_ms = MsSince(handshake_start_ns_);
      CollectNegotiated();
      Finish(Outcome::kTls, absl::StrCat("chain read from the handshake records: the TLS "
                                         "library rejected the leaf (", leaf_rejected_, ")"));
    } else {
      Finish(Outcome::kTlsError,
             absl::StrCat(leaf_rejected_, "; the chain could not be read from the records (",
                          reason, ")"));
    }
    return;
  }
  if (state_ == State::kHandshaking && LeafRejected(codes)) {
    // Again on this rung, with the tap: it reads the Certificate message
    // from the records (TLS 1.2: in the clear; TLS 1.3: decrypted with the
    // server's handshake secret from the key log).
    tap_on_ = true;
    leaf_rejected_ = reason;
    EndAttempt(rung_, Outcome::kError, reason);
    return;
  }
  if (state_ == State::kChainReceived) {
    // In certs mode this is our own abort after capturing the chain.
    Finish(Outcome::kTls,
           context_->options().mode == ProbeMode::kCerts
               ? ""
               : absl::StrCat("handshake failed after the certificate: ",
                              reason));
    return;
  }
  if (alert_received_ >= 0) {
    std::string alert = SSL_alert_desc_string_long(alert_received_);
    if (MaybeFallback(Outcome::kTlsAlert, error, alert)) return;
    result_.alert = alert_received_;
    Finish(Outcome::kTlsAlert, std::move(alert));
    return;
  }
  if (MaybeFallback(Outcome::kTlsError, error, reason)) return;
  Finish(Outcome::kTlsError, std::move(reason));
}

bool Probe::MaybeFallback(Outcome outcome, uint32_t error, const std::string& detail) {
  const int last = context_->num_rungs() - 1;
  if (rung_ >= last || state_ == State::kChainReceived) return false;
  const bool version_rejected =
      alert_received_ == SSL_AD_PROTOCOL_VERSION ||
      (ERR_GET_LIB(error) == ERR_LIB_SSL &&
       (ERR_GET_REASON(error) == SSL_R_UNSUPPORTED_PROTOCOL ||
        ERR_GET_REASON(error) == SSL_R_WRONG_VERSION_NUMBER));
  bool hello_rejected = version_rejected;
  if (outcome == Outcome::kTlsAlert) {
    switch (alert_received_) {
      case SSL_AD_HANDSHAKE_FAILURE:
      case SSL_AD_ILLEGAL_PARAMETER:
      case SSL_AD_DECODE_ERROR:
      case SSL_AD_INSUFFICIENT_SECURITY:
      case SSL_AD_UNEXPECTED_MESSAGE:
        hello_rejected = true;
        break;
      default:
        break;
    }
  }
  // A server that hangs up on the hello without a word.
  if (outcome == Outcome::kReset && attempt_bytes_ == 0) hello_rejected = true;
  if (!hello_rejected) return false;
  EndAttempt(version_rejected ? last : rung_ + 1, outcome, detail);
  return true;
}

void Probe::CollectNegotiated() {
  SSL* ssl = ssl_.get();
  result_.version = static_cast<uint16_t>(SSL_version(ssl));
  result_.version_name = SSL_get_version(ssl);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (cipher == nullptr) cipher = SSL_get_pending_cipher(ssl);
  if (cipher != nullptr) result_.cipher = SSL_CIPHER_standard_name(cipher);
  if (uint16_t group = SSL_get_curve_id(ssl); group != 0) {
    const char* name = SSL_get_curve_name(group);
    result_.group = name != nullptr ? name : absl::StrCat("0x", absl::Hex(group));
  }
  const uint8_t* data = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &data, &alpn_len);
  if (alpn_len > 0) result_.alpn.assign(reinterpret_cast<const char*>(data), alpn_len);
  if (uint16_t sigalg = SSL_get_peer_signature_algorithm(ssl); sigalg != 0) {
    const char* name = SSL_get_signature_algorithm_name(sigalg, 0);
    result_.peer_signature_algorithm =
        name != nullptr ? name : absl::StrCat("0x", absl::Hex(sigalg));
  }
  size_t len = 0;
  SSL_get0_ocsp_response(ssl, &data, &len);
  if (len > 0) result_.ocsp_response.assign(reinterpret_cast<const char*>(data), len);
  SSL_get0_signed_cert_timestamp_list(ssl, &data, &len);
  if (len > 0) result_.sct_list.assign(reinterpret_cast<const char*>(data), len);
}

enum ssl_verify_result_t Probe::VerifyCallback(SSL* ssl, uint8_t* out_alert) {
  auto* probe = static_cast<Probe*>(
      SSL_get_ex_data(ssl, ClientContext::ExDataIndex()));
  const STACK_OF(CRYPTO_BUFFER)* certs = SSL_get0_peer_certificates(ssl);
  probe->result_.chain.clear();
  for (size_t i = 0; i < sk_CRYPTO_BUFFER_num(certs); ++i) {
    const CRYPTO_BUFFER* cert = sk_CRYPTO_BUFFER_value(certs, i);
    probe->result_.chain.emplace_back(
        reinterpret_cast<const char*>(CRYPTO_BUFFER_data(cert)),
        CRYPTO_BUFFER_len(cert));
  }
  probe->state_ = State::kChainReceived;
  probe->result_.handshake_ms = MsSince(probe->handshake_start_ns_);
  probe->CollectNegotiated();
  if (probe->context_->options().mode == ProbeMode::kCerts) {
    // We have what we came for: skip the server's signature check and, in
    // TLS 1.2, the key exchange.
    *out_alert = SSL_AD_USER_CANCELLED;
    return ssl_verify_invalid;
  }
  // Validation against trust stores is x509/'s job, on the recorded chain.
  return ssl_verify_ok;
}

void Probe::InfoCallback(const SSL* ssl, int type, int value) {
  if (type != SSL_CB_READ_ALERT) return;  // not SSL_CB_WRITE_ALERT
  auto* probe = static_cast<Probe*>(
      SSL_get_ex_data(ssl, ClientContext::ExDataIndex()));
  if (probe != nullptr) probe->alert_received_ = value & 0xff;
}

void Probe::KeyLogCallback(const SSL* ssl, const char* line) {
  // "SERVER_HANDSHAKE_TRAFFIC_SECRET <client random> <secret>", in hex.
  static constexpr absl::string_view kLabel = "SERVER_HANDSHAKE_TRAFFIC_SECRET ";
  auto* probe = static_cast<Probe*>(SSL_get_ex_data(ssl, ClientContext::ExDataIndex()));
  absl::string_view text(line);
  if (probe == nullptr || probe->tap_ == nullptr || !absl::StartsWith(text, kLabel)) return;
  const size_t space = text.rfind(' ');
  const absl::string_view hex = text.substr(space + 1);
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 128 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != absl::string_view::npos) {
    return;
  }
  probe->tap_->SetServerHandshakeSecret(absl::HexStringToBytes(hex));
}

// --- timeouts --------------------------------------------------------------

void Probe::OnTimeout() {
  if (state_ == State::kConnecting) {
    if (connect_retries_left_ > 0) {
      --connect_retries_left_;
      EndAttempt(rung_, Outcome::kTimeout, "connect");
      return;
    }
    Finish(Outcome::kTimeout, "connect");
    return;
  }
  if (state_ == State::kUpgrading) {
    StarttlsDialog::Step step = dialog_->OnEnd();
    if (step != StarttlsDialog::Step::kRead) {
      UpgradeStep(step);
    } else {
      Finish(Outcome::kTimeout, "starttls");
    }
    return;
  }
  if (state_ == State::kChainReceived) {
    Finish(Outcome::kTls, "handshake timed out after the certificate");
  } else if (state_ == State::kHandshaking) {
    Finish(Outcome::kTimeout, "handshake");
  }
}

// --- kClosing --------------------------------------------------------------

void Probe::EndAttempt(int next_rung, Outcome outcome, std::string detail) {
  next_rung_ = next_rung;
  ended_outcome_ = outcome;
  ended_detail_ = std::move(detail);
  state_ = State::kReconnecting;
  Advance();
}

void Probe::Finish(Outcome outcome, std::string detail) {
  if (state_ == State::kClosing || state_ == State::kDone) return;
  result_.outcome = outcome;
  result_.detail = std::move(detail);
  result_.rung = rung_ + 1;
  result_.rung_name = context_->rung(rung_).name;
  state_ = State::kClosing;
  Advance();
}

Probe::Wait Probe::DoClose() {
  uv_timer_stop(&timer_);
  ssl_.reset();
  dialog_.reset();
  auto* tcp = reinterpret_cast<uv_handle_t*>(&tcp_);
  if (tcp->data == this && !uv_is_closing(tcp)) uv_close(tcp, &Probe::CloseCb);
  // A reconnect keeps the timer for the next attempt.
  auto* timer = reinterpret_cast<uv_handle_t*>(&timer_);
  if (state_ == State::kClosing && !uv_is_closing(timer)) uv_close(timer, &Probe::CloseCb);
  return Wait::kClose;
}

void Probe::OnHandleClosed() {
  --open_handles_;
  if (state_ == State::kReconnecting) {
    // The TCP handle is closed: connect again with the chosen rung, at
    // once or when the gate allows.
    rung_ = next_rung_;
    tcp_.data = nullptr;
    if (gate_ != nullptr) {
      state_ = State::kAwaitingPermit;
      gate_(this, gate_arg_);
      return;
    }
    state_ = State::kConnecting;
    Advance();
    return;
  }
  if (open_handles_ == 0) {
    state_ = State::kDone;
    done_(this, done_arg_);  // may free |this|
  }
}

void Probe::Proceed() {
  if (state_ != State::kAwaitingPermit) return;
  state_ = State::kConnecting;
  Advance();
}

void Probe::Abandon() {
  if (state_ != State::kAwaitingPermit) return;
  // The attempt that ended stands as the result; only the timer is open.
  if (ended_outcome_ == Outcome::kTlsAlert) result_.alert = alert_received_;
  Finish(ended_outcome_, absl::StrCat(ended_detail_, " (the sweep stopped before the next attempt)"));
}

// --- libuv trampolines ---------------------------------------------------------

void Probe::ConnectCb(uv_connect_t* req, int status) {
  if (status == UV_ECANCELED) return;  // the handle is being closed
  static_cast<Probe*>(req->data)->OnConnected(status);
}

void Probe::AllocCb(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = reinterpret_cast<char*>(loop_read_buffer);
  buf->len = kLoopReadBufferBytes;
}

void Probe::ReadCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* probe = static_cast<Probe*>(stream->data);
  if (nread > 0) {
    probe->OnBytes(reinterpret_cast<const uint8_t*>(buf->base),
                   static_cast<size_t>(nread));
  } else if (nread < 0) {
    probe->OnStreamEnd(nread);
  }
}

void Probe::WriteCb(uv_write_t* req, int status) {
  if (status == UV_ECANCELED) return;  // closing; the buffer dies with us
  static_cast<Probe*>(req->data)->OnWritten(status);
}

void Probe::TimerCb(uv_timer_t* timer) {
  static_cast<Probe*>(timer->data)->OnTimeout();
}

void Probe::CloseCb(uv_handle_t* handle) {
  static_cast<Probe*>(handle->data)->OnHandleClosed();
}

}  // namespace ers

#include "tests/test_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <openssl/bytestring.h>
#include <openssl/err.h>

namespace ers {
namespace testing {
namespace {

// Bounds on how long one misbehaving connection may occupy the server
// thread, so that a test can never hang on its own server.
constexpr int kIoTimeoutSeconds = 5;
constexpr int kDripMaxBytes = 30;

sockaddr_in Loopback(const std::string& address, uint16_t port) {
  sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
  return sin;
}

void SetTimeouts(int fd) {
  timeval tv{kIoTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// WaitStop waits up to |ms| for the stop pipe; true if stopping.
bool WaitStop(int stop_fd, int ms) {
  pollfd p{stop_fd, POLLIN, 0};
  return poll(&p, 1, ms) > 0;
}

// ServerNameOf parses the server_name extension of |hello| ("" if none).
std::string ServerNameOf(const SSL_CLIENT_HELLO* hello) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_server_name,
                                            &data, &len)) {
    return "";
  }
  CBS ext, list, name;
  uint8_t type;
  CBS_init(&ext, data, len);
  if (!CBS_get_u16_length_prefixed(&ext, &list) || !CBS_get_u8(&list, &type) ||
      !CBS_get_u16_length_prefixed(&list, &name)) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(CBS_data(&name)),
                     CBS_len(&name));
}

int SelectAlpn(SSL*, const uint8_t** out, uint8_t* out_len,
               const uint8_t* in, unsigned in_len, void* arg) {
  const std::string& wanted = *static_cast<const std::string*>(arg);
  for (unsigned i = 0; i < in_len;) {
    uint8_t len = in[i];
    if (i + 1 + len > in_len) break;
    if (std::string(reinterpret_cast<const char*>(in + i + 1), len) == wanted) {
      *out = in + i + 1;
      *out_len = len;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

enum ssl_select_cert_result_t TestServer::OnClientHello(
    const SSL_CLIENT_HELLO* hello) {
  auto* self = static_cast<TestServer*>(
      SSL_CTX_get_app_data(SSL_get_SSL_CTX(hello->ssl)));
  {
    // Recorded before the server answers, so a client that has a result
    // always finds its hello recorded here.
    std::lock_guard<std::mutex> lock(self->mu_);
    self->last_sni_ = ServerNameOf(hello);
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (self->options_.reject_tls13_hello &&
      SSL_early_callback_ctx_extension_get(hello, 43 /* supported_versions */,
                                           &data, &len)) {
    return ssl_select_cert_error;
  }
  return ssl_select_cert_success;
}

// ServerFirstFlight runs a client of |cctx| and a server of |sctx| in memory
// and returns the server's answer to the ClientHello, whole.
static std::string ServerFirstFlight(SSL_CTX* cctx, SSL_CTX* sctx) {
  bssl::UniquePtr<SSL> client(SSL_new(cctx)), server(SSL_new(sctx));
  BIO *a = nullptr, *b = nullptr;
  BIO_new_bio_pair(&a, 0, &b, 0);
  bssl::UniquePtr<BIO> network_end(b);  // |a| belongs to the client SSL
  SSL_set_bio(client.get(), a, a);
  SSL_set_connect_state(client.get());
  SSL_do_handshake(client.get());  // the ClientHello goes into the pair
  // The server reads it through a memory BIO and writes its answer to
  // another, so the flight can be taken whole.
  std::string hello(BIO_pending(b), '\0');
  BIO_read(b, &hello[0], static_cast<int>(hello.size()));
  BIO* in = BIO_new_mem_buf(hello.data(), static_cast<int>(hello.size()));
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(server.get(), in, out);  // the server SSL owns both
  SSL_set_accept_state(server.get());
  SSL_do_handshake(server.get());
  ERR_clear_error();
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(out, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string CaptureHelloRetryRequest() {
  bssl::UniquePtr<SSL_CTX> cctx(SSL_CTX_new(TLS_method())), sctx(SSL_CTX_new(TLS_method()));
  SSL_CTX_set1_curves_list(cctx.get(), "X25519:P-384");
  SSL_CTX_set1_curves_list(sctx.get(), "P-384");
  SSL_CTX_set_min_proto_version(sctx.get(), TLS1_3_VERSION);
  // The server needs no certificate to ask for another key share.
  return ServerFirstFlight(cctx.get(), sctx.get());
}

std::vector<std::string> CaptureTls12Flight(const std::vector<X509*>& chain, EVP_PKEY* key) {
  bssl::UniquePtr<SSL_CTX> cctx(SSL_CTX_new(TLS_method())), sctx(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_max_proto_version(sctx.get(), TLS1_2_VERSION);
  SSL_CTX_use_certificate(sctx.get(), chain[0]);
  for (size_t i = 1; i < chain.size(); ++i) SSL_CTX_add1_chain_cert(sctx.get(), chain[i]);
  SSL_CTX_use_PrivateKey(sctx.get(), key);
  const std::string flight = ServerFirstFlight(cctx.get(), sctx.get());
  const auto* data = reinterpret_cast<const uint8_t*>(flight.data());
  const size_t len = flight.size();
  std::vector<std::string> records;
  // Split at record boundaries; split a record holding several handshake
  // messages into one record per message, so each step can be cut.
  for (size_t pos = 0; pos + 5 <= len;) {
    size_t body = (size_t{data[pos + 3]} << 8) | data[pos + 4];
    if (pos + 5 + body > len) break;
    const uint8_t* p = data + pos + 5;
    for (size_t off = 0; off + 4 <= body;) {
      size_t msg = 4 + ((size_t{p[off + 1]} << 16) | (size_t{p[off + 2]} << 8) | p[off + 3]);
      if (off + msg > body) break;
      std::string rec = {0x16, 0x03, 0x03, static_cast<char>(msg >> 8), static_cast<char>(msg & 0xff)};
      rec.append(reinterpret_cast<const char*>(p + off), msg);
      records.push_back(std::move(rec));
      off += msg;
    }
    pos += 5 + body;
  }
  return records;
}

std::string TestServer::last_sni() {
  std::lock_guard<std::mutex> lock(mu_);
  return last_sni_;
}

std::string FakeSctList() {
  std::string sct(40, '\x01');  // an SCT-shaped blob
  std::string list;
  list += static_cast<char>(0);
  list += static_cast<char>(sct.size() + 2);
  list += static_cast<char>(0);
  list += static_cast<char>(sct.size());
  list += sct;
  return list;
}

uint16_t FreePort(const std::string& address) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin = Loopback(address, 0);
  bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  close(fd);
  return ntohs(sin.sin_port);
}

std::unique_ptr<TestServer> TestServer::Start(const ServerOptions& options,
                                              std::string* error) {
  std::unique_ptr<TestServer> s(new TestServer());
  s->options_ = options;
  if (options.behavior == Behavior::kTls || options.behavior == Behavior::kStarttls) {
    s->ctx_.reset(SSL_CTX_new(TLS_method()));
    SSL_CTX_set_min_proto_version(s->ctx_.get(), options.min_version);
    SSL_CTX_set_max_proto_version(s->ctx_.get(), options.max_version);
    SSL_CTX_set_cipher_list(s->ctx_.get(), "ALL");
    if (options.chain.empty() || options.key == nullptr ||
        !SSL_CTX_use_certificate(s->ctx_.get(), options.chain[0]) ||
        !SSL_CTX_use_PrivateKey(s->ctx_.get(), options.key)) {
      *error = "TLS server needs a certificate and key";
      return nullptr;
    }
    for (size_t i = 1; i < options.chain.size(); ++i) {
      SSL_CTX_add1_chain_cert(s->ctx_.get(), options.chain[i]);
    }
    if (!options.ocsp_response.empty()) {
      SSL_CTX_set_ocsp_response(
          s->ctx_.get(),
          reinterpret_cast<const uint8_t*>(options.ocsp_response.data()),
          options.ocsp_response.size());
    }
    if (!options.sct_list.empty() &&
        !SSL_CTX_set_signed_cert_timestamp_list(
            s->ctx_.get(),
            reinterpret_cast<const uint8_t*>(options.sct_list.data()),
            options.sct_list.size())) {
      *error = "bad SCT list";
      return nullptr;
    }
    if (!options.groups.empty() &&
        !SSL_CTX_set1_curves_list(s->ctx_.get(), options.groups.c_str())) {
      *error = "bad groups";
      return nullptr;
    }
    if (!options.alpn.empty()) {
      SSL_CTX_set_alpn_select_cb(s->ctx_.get(), &SelectAlpn,
                                 &s->options_.alpn);
    }
    SSL_CTX_set_app_data(s->ctx_.get(), s.get());
    SSL_CTX_set_select_certificate_cb(s->ctx_.get(), &TestServer::OnClientHello);
  }
  s->listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sin = Loopback(options.address, options.port);
  if (bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 ||
      listen(s->listen_fd_, 512) != 0) {
    *error = std::string("bind/listen ") + options.address + ": " +
             strerror(errno);
    close(s->listen_fd_);
    return nullptr;
  }
  socklen_t len = sizeof(sin);
  getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&sin), &len);
  s->port_ = ntohs(sin.sin_port);
  if (pipe(s->stop_pipe_) != 0) {
    *error = "pipe";
    return nullptr;
  }
  s->thread_ = std::thread([p = s.get()] { p->Serve(); });
  return s;
}

TestServer::~TestServer() {
  if (thread_.joinable()) {
    char c = 's';
    (void)!write(stop_pipe_[1], &c, 1);
    thread_.join();
  }
  for (int fd : held_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_pipe_[0] >= 0) close(stop_pipe_[0]);
  if (stop_pipe_[1] >= 0) close(stop_pipe_[1]);
}

void TestServer::Serve() {
  // A client that hangs up mid-write must not kill the test process: with
  // SIGPIPE blocked in this thread, write() (ours and BoringSSL's socket BIO)
  // returns EPIPE instead. The signal stays pending on this thread and dies
  // with it.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++accepted_;
    SetTimeouts(fd);
    Handle(fd);
  }
}

void TestServer::ServeTls(int fd) {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) == 1) {
    ++handshakes_;
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
  close(fd);
}

void TestServer::Handle(int fd) {
  char buf[4096];
  switch (options_.behavior) {
    case Behavior::kTls:
      ServeTls(fd);
      return;
    case Behavior::kStarttls: {
      // The script, each read bounded by a 5 s poll: a client that stops
      // talking ends the dialogue instead of hanging the server thread.
      auto send_all = [fd](const std::string& text) {
        size_t off = 0;
        while (off < text.size()) {
          ssize_t n = write(fd, text.data() + off, text.size() - off);
          if (n <= 0) return false;
          off += static_cast<size_t>(n);
        }
        return true;
      };
      bool ok = send_all(options_.starttls_greeting);
      std::string received;
      for (const auto& [expect, reply] : options_.starttls_steps) {
        while (ok && received.find(expect) == std::string::npos) {
          pollfd p{fd, POLLIN, 0};
          ssize_t n = poll(&p, 1, 5000) == 1 ? read(fd, buf, sizeof(buf)) : 0;
          if (n <= 0) ok = false;
          else received.append(buf, static_cast<size_t>(n));
        }
        received.clear();
        ok = ok && send_all(reply);
      }
      if (!ok || !options_.starttls_then_tls) {
        if (ok) held_.push_back(fd);
        else close(fd);
        return;
      }
      ServeTls(fd);
      return;
    }
    case Behavior::kSilent:
      held_.push_back(fd);
      return;
    case Behavior::kGarbage: {
      static const char kGarbage[] = "\x00\xff garbage, not a TLS record";
      (void)!write(fd, kGarbage, sizeof(kGarbage) - 1);
      held_.push_back(fd);
      return;
    }
    case Behavior::kReset: {
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      (void)!read(fd, buf, sizeof(buf));  // the ClientHello
      close(fd);
      return;
    }
    case Behavior::kHttp: {
      (void)!read(fd, buf, sizeof(buf));
      static const char kReply[] =
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
          "Connection: close\r\n\r\n";
      (void)!write(fd, kReply, sizeof(kReply) - 1);
      close(fd);
      return;
    }
    case Behavior::kAlert: {
      (void)!read(fd, buf, sizeof(buf));
      static const uint8_t kAlertRecord[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
      (void)!write(fd, kAlertRecord, sizeof(kAlertRecord));
      close(fd);
      return;
    }
    case Behavior::kMalformed: {
      (void)!read(fd, buf, sizeof(buf));
      // A handshake record longer than any TLS record may be.
      static const uint8_t kBad[] = {0x16, 0x03, 0x03, 0x50, 0x00, 0x02, 0x00,
                                     0x00, 0x40, 0xff, 0xff, 0xff, 0xff};
      (void)!write(fd, kBad, sizeof(kBad));
      held_.push_back(fd);
      return;
    }
    case Behavior::kResetMidFlight: {
      (void)!read(fd, buf, sizeof(buf));
      uint8_t part[64] = {0x16, 0x03, 0x03, 0x10, 0x00, 0x02, 0x00, 0x0f, 0xfc, 0x03, 0x03};
      (void)!write(fd, part, sizeof(part));
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      close(fd);
      return;
    }
    case Behavior::kHelloRetryLoop: {
      // Offsets of legacy_session_id in a ClientHello and a ServerHello:
      // record header 5 + handshake header 4 + version 2 + random 32.
      constexpr size_t kSessionIdAt = 5 + 4 + 2 + 32;
      std::string hrr = options_.hello_retry_request;
      for (int round = 0; round < 10; ++round) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        if (static_cast<size_t>(n) > kSessionIdAt + 33 && hrr.size() > kSessionIdAt + 33 &&
            static_cast<uint8_t>(buf[kSessionIdAt]) == 32 &&
            static_cast<uint8_t>(hrr[kSessionIdAt]) == 32) {
          memcpy(&hrr[kSessionIdAt + 1], buf + kSessionIdAt + 1, 32);
        }
        if (write(fd, hrr.data(), hrr.size()) <= 0) break;
      }
      close(fd);
      return;
    }
    case Behavior::kAlertAtStep: {
      (void)!read(fd, buf, sizeof(buf));
      for (int i = 0; i < options_.alert_after_records &&
                      i < static_cast<int>(options_.flight_records.size());
           ++i) {
        (void)!write(fd, options_.flight_records[i].data(), options_.flight_records[i].size());
      }
      static const uint8_t kAlertRecord[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
      (void)!write(fd, kAlertRecord, sizeof(kAlertRecord));
      held_.push_back(fd);  // no FIN: the alert alone must end it
      return;
    }
    case Behavior::kCloseOnHello:
      (void)!read(fd, buf, sizeof(buf));
      close(fd);
      return;
    case Behavior::kDrip: {
      // A handshake record header, then a body, one byte a second.
      static const uint8_t kStart[] = {0x16, 0x03, 0x03, 0x40, 0x00, 0x0b};
      for (int i = 0; i < kDripMaxBytes; ++i) {
        uint8_t b = i < static_cast<int>(sizeof(kStart)) ? kStart[i] : 0;
        if (write(fd, &b, 1) != 1) break;
        if (WaitStop(stop_pipe_[0], 1000)) break;
      }
      close(fd);
      return;
    }
    case Behavior::kEndless: {
      // Records of a Certificate message that claims 16 MiB and never ends.
      uint8_t record[5 + 16384];
      memset(record, 0, sizeof(record));
      record[0] = 0x16;
      record[1] = 0x03;
      record[2] = 0x03;
      record[3] = 0x40;
      record[4] = 0x00;
      (void)!read(fd, buf, sizeof(buf));
      // ServerHello would come first in a real server; BoringSSL must still
      // cut the stream off by size, whatever it contains.
      record[5] = 0x0b;
      record[6] = 0xff;
      record[7] = 0xff;
      record[8] = 0xff;
      for (int i = 0; i < 4096; ++i) {  // at most 64 MiB, then give up
        if (write(fd, record, sizeof(record)) <= 0) break;
        record[5] = record[6] = record[7] = record[8] = 0;
        if (WaitStop(stop_pipe_[0], 0)) break;
      }
      close(fd);
      return;
    }
  }
}

}  // namespace testing
}  // namespace ers

// test_servers.h: loopback servers for probe and engine tests. Each listens on
// one loopback address and port and is served by its own thread: a real
// BoringSSL TLS server, or a listener that misbehaves in one chosen way.
// Destroying the server stops its thread and closes every socket.
#ifndef ERS_TESTS_TEST_SERVERS_H_
#define ERS_TESTS_TEST_SERVERS_H_

#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ers {
namespace testing {

enum class Behavior {
  kTls,      // a TLS server (BoringSSL)
  kSilent,   // accepts and never sends or reads
  kGarbage,  // sends bytes that are not TLS
  kReset,    // resets the connection as soon as it is accepted
  kHttp,     // answers like a plain HTTP server
  kDrip,     // sends a TLS record header one byte a second
  kEndless,  // sends a never-ending handshake message
  kCloseOnHello,  // reads the hello and closes without a word
  kAlert,         // answers the hello with a fatal handshake_failure alert
  kMalformed,     // answers the hello with a malformed handshake record
  kResetMidFlight,  // sends part of a server flight, then resets
  kHelloRetryLoop,  // answers every ClientHello with a HelloRetryRequest
  kAlertAtStep,     // sends the first N records of a real TLS 1.2 server
                    // flight, then a fatal alert
  kStarttls,        // a scripted plain-text dialogue (starttls_*), then a
                    // TLS server on the same connection
};

struct ServerOptions {
  Behavior behavior = Behavior::kTls;
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  // For kTls: versions, chain (leaf first) and key.
  uint16_t min_version = TLS1_VERSION;
  uint16_t max_version = TLS1_3_VERSION;
  std::vector<X509*> chain;
  EVP_PKEY* key = nullptr;
  std::string ocsp_response;  // stapled when the client asks
  std::string sct_list;       // sent when the client asks
  // reject_tls13_hello makes the server fail any ClientHello that offers
  // TLS 1.3 (a version-intolerant server), to exercise the fallback ladder.
  bool reject_tls13_hello = false;
  // alpn, if set, is the protocol the server selects when the client
  // offers it.
  std::string alpn;
  // groups, if set, limits the server's key-exchange groups (e.g. "P-384"
  // forces a HelloRetryRequest for a client whose key share is X25519).
  std::string groups;
  // hello_retry_request is the server flight kHelloRetryLoop replays, its
  // session id patched to echo each client's (see CaptureHelloRetryRequest).
  std::string hello_retry_request;
  // For kAlertAtStep: the records of a server flight and how many to send.
  std::vector<std::string> flight_records;
  int alert_after_records = 0;
  // For kStarttls: |starttls_greeting| is sent first; then, for each step,
  // the server reads until what it received contains the step's first
  // string and sends the second; after the last step it serves TLS (as
  // kTls does) when |starttls_then_tls|, else it holds the connection.
  std::string starttls_greeting;
  std::vector<std::pair<std::string, std::string>> starttls_steps;
  bool starttls_then_tls = true;
};

// CaptureTls12Flight runs a BoringSSL client and a TLS 1.2 server with
// |chain| and |key| in memory and returns the server's first flight, split
// into records (ServerHello, Certificate, ServerKeyExchange, ...).
std::vector<std::string> CaptureTls12Flight(const std::vector<X509*>& chain, EVP_PKEY* key);

// CaptureHelloRetryRequest runs a BoringSSL client (key share X25519) and
// server (P-384 only) in memory and returns the server's first flight: a
// HelloRetryRequest. Empty on failure.
std::string CaptureHelloRetryRequest();

class TestServer {
 public:
  // Start binds and starts serving; returns null (with |*error| set) when the
  // address or port cannot be bound.
  static std::unique_ptr<TestServer> Start(const ServerOptions& options,
                                           std::string* error);
  ~TestServer();

  uint16_t port() const { return port_; }
  const std::string& address() const { return options_.address; }
  int accepted() const { return accepted_.load(); }
  int handshakes_completed() const { return handshakes_.load(); }
  // last_sni returns the server name of the last completed or attempted
  // handshake ("" for none).
  std::string last_sni();

 private:
  TestServer() = default;
  static enum ssl_select_cert_result_t OnClientHello(
      const SSL_CLIENT_HELLO* hello);
  void Serve();
  void Handle(int fd);
  // ServeTls runs a TLS server handshake on |fd| and closes it.
  void ServeTls(int fd);

  ServerOptions options_;
  bssl::UniquePtr<SSL_CTX> ctx_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<int> handshakes_{0};
  std::vector<int> held_;  // connections kept open (silent, garbage)
  std::mutex mu_;
  std::string last_sni_;
  std::thread thread_;
};

// FreePort returns a TCP port that was free on |address| a moment ago and
// that nothing listens on (connections to it are refused).
uint16_t FreePort(const std::string& address);

// FakeSctList returns a well-formed SignedCertificateTimestampList holding
// one SCT-shaped blob (RFC 6962 framing; the content is not signed).
std::string FakeSctList();

}  // namespace testing
}  // namespace ers

#endif  // ERS_TESTS_TEST_SERVERS_H_

// Probe tests against real servers on loopback: an in-process BoringSSL
// server per TLS version, and listeners that misbehave in one way each.
#include "tlsprobe/probe.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

using ::ers::testing::Behavior;
using ::ers::testing::ServerOptions;
using ::ers::testing::TestServer;
using ::testing::HasSubstr;

// RunProbe runs one probe to completion on a fresh loop.
ProbeResult RunProbe(const ProbeOptions& options, const std::string& address,
                     uint16_t port, const std::string& sni = "",
                     Starttls starttls = Starttls::kNone) {
  absl::StatusOr<std::unique_ptr<ClientContext>> context =
      ClientContext::Create(options);
  EXPECT_TRUE(context.ok()) << context.status();
  uv_loop_t loop;
  uv_loop_init(&loop);
  int done_calls = 0;
  ProbeResult result;
  {
    Probe probe(&loop, context->get());
    ProbeTarget target;
    target.address = *ParseIpAddress(address);
    target.port = port;
    target.sni = sni;
    target.starttls = starttls;
    probe.Start(target, [](Probe*, void* arg) { ++*static_cast<int*>(arg); },
                &done_calls);
    EXPECT_EQ(done_calls, 0) << "done must not run inside Start";
    uv_run(&loop, UV_RUN_DEFAULT);
    result = probe.result();
  }
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(uv_loop_close(&loop), 0) << "handles left open";
  return result;
}

class ProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    chain_ = new testpki::Chain(
        testpki::MakeChain("tls.test", testpki::KeyType::kEcP256));
  }
  static void TearDownTestSuite() {
    delete chain_;
    chain_ = nullptr;
  }
  static std::unique_ptr<TestServer> Serve(ServerOptions o) {
    if ((o.behavior == Behavior::kTls || o.behavior == Behavior::kStarttls) && o.chain.empty()) {
      o.chain = {chain_->leaf.get(), chain_->intermediate.get()};
      o.key = chain_->leaf_key.get();
    }
    std::string error;
    std::unique_ptr<TestServer> s = TestServer::Start(o, &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }
  static ProbeOptions Options(ProbeMode mode) {
    ProbeOptions o;
    o.mode = mode;
    o.connect_timeout_ms = 2000;
    o.handshake_timeout_ms = 3000;
    return o;
  }
  static testpki::Chain* chain_;
};
testpki::Chain* ProbeTest::chain_ = nullptr;

struct VersionCase {
  const char* name;
  uint16_t server_min;
  uint16_t server_max;
  ProbeMode mode;
  const char* version_name;
  int rung;
};

class ProbeVersionTest : public ProbeTest,
                         public ::testing::WithParamInterface<VersionCase> {};

TEST_P(ProbeVersionTest, CapturesTheServedChain) {
  const VersionCase& c = GetParam();
  ServerOptions so;
  so.min_version = c.server_min;
  so.max_version = c.server_max;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(c.mode), "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTls) << r.detail;
  EXPECT_EQ(r.version_name, c.version_name);
  EXPECT_EQ(r.rung, c.rung);
  EXPECT_EQ(r.mode, c.mode);
  ASSERT_EQ(r.chain.size(), 2u);
  EXPECT_EQ(r.chain[0], testpki::Der(chain_->leaf.get()));
  EXPECT_EQ(r.chain[1], testpki::Der(chain_->intermediate.get()));
  EXPECT_FALSE(r.cipher.empty());
  EXPECT_GT(r.bytes_received, 0u);
  EXPECT_GE(r.connect_ms, 0);
  if (c.mode == ProbeMode::kFull) {
    EXPECT_FALSE(r.group.empty());
    if (r.version >= TLS1_2_VERSION) {
      EXPECT_FALSE(r.peer_signature_algorithm.empty())
          << "full handshakes verify the server's signature";
    }
  } else {
    // certs mode aborts before the server's Finished is answered.
    EXPECT_EQ(server->handshakes_completed(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Versions, ProbeVersionTest,
    ::testing::Values(
        VersionCase{"tls13_full", TLS1_2_VERSION, TLS1_3_VERSION,
                    ProbeMode::kFull, "TLSv1.3", 1},
        VersionCase{"tls13_certs", TLS1_2_VERSION, TLS1_3_VERSION,
                    ProbeMode::kCerts, "TLSv1.3", 1},
        VersionCase{"tls12_full", TLS1_2_VERSION, TLS1_2_VERSION,
                    ProbeMode::kFull, "TLSv1.2", 1},
        VersionCase{"tls12_certs", TLS1_2_VERSION, TLS1_2_VERSION,
                    ProbeMode::kCerts, "TLSv1.2", 1},
        VersionCase{"tls10_full", TLS1_VERSION, TLS1_VERSION, ProbeMode::kFull,
                    "TLSv1", 3},
        VersionCase{"tls10_certs", TLS1_VERSION, TLS1_VERSION,
                    ProbeMode::kCerts, "TLSv1", 3},
        VersionCase{"tls11_certs", TLS1_1_VERSION, TLS1_1_VERSION,
                    ProbeMode::kCerts, "TLSv1.1", 3}),
    [](const ::testing::TestParamInfo<VersionCase>& info) {
      return std::string(info.param.name);
    });

TEST_F(ProbeTest, LegacyServerNeedsTwoConnections) {
  ServerOptions so;
  so.min_version = TLS1_VERSION;
  so.max_version = TLS1_VERSION;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTls);
  // The version rejection skips the TLS 1.2-only rung.
  EXPECT_EQ(r.attempts, 2);
  EXPECT_STREQ(r.rung_name, "legacy");
}

TEST_F(ProbeTest, IntolerantServerFallsBackToTls12) {
  ServerOptions so;
  so.reject_tls13_hello = true;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kFull), "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTls) << r.detail;
  EXPECT_EQ(r.rung, 2);
  EXPECT_STREQ(r.rung_name, "tls1.2");
  EXPECT_EQ(r.version_name, "TLSv1.2");
  EXPECT_EQ(r.attempts, 2);
}

TEST_F(ProbeTest, NoFallbackWhenDisabled) {
  ServerOptions so;
  so.reject_tls13_hello = true;
  auto server = Serve(so);
  ProbeOptions o = Options(ProbeMode::kFull);
  o.fallback = false;
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTlsAlert);
  EXPECT_GE(r.alert, 0);
  EXPECT_FALSE(r.detail.empty());
  EXPECT_EQ(r.attempts, 1);
}

class ProbeModeTest : public ProbeTest,
                      public ::testing::WithParamInterface<ProbeMode> {};

TEST_P(ProbeModeTest, StapledOcspAndScts) {
  for (uint16_t max : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SCOPED_TRACE(max);
    ServerOptions so;
    so.max_version = max;
    so.ocsp_response = "stapled OCSP response bytes";
    so.sct_list = testing::FakeSctList();
    auto server = Serve(so);
    ProbeResult r = RunProbe(Options(GetParam()), "127.0.0.1", server->port());
    EXPECT_EQ(r.outcome, Outcome::kTls) << r.detail;
    EXPECT_EQ(r.ocsp_response, so.ocsp_response);
    EXPECT_EQ(r.sct_list, so.sct_list);
  }
}

TEST_P(ProbeModeTest, SendsSniOnlyWhenGiven) {
  auto server = Serve(ServerOptions());
  RunProbe(Options(GetParam()), "127.0.0.1", server->port(), "mail.example.com");
  EXPECT_EQ(server->last_sni(), "mail.example.com");
  RunProbe(Options(GetParam()), "127.0.0.1", server->port(), "");
  EXPECT_EQ(server->last_sni(), "");
}

INSTANTIATE_TEST_SUITE_P(Modes, ProbeModeTest,
                         ::testing::Values(ProbeMode::kFull, ProbeMode::kCerts),
                         [](const ::testing::TestParamInfo<ProbeMode>& info) {
                           return std::string(ProbeModeName(info.param));
                         });

TEST_F(ProbeTest, OffersAlpnWhenAsked) {
  ServerOptions so;
  so.alpn = "h2";
  auto server = Serve(so);
  ProbeOptions o = Options(ProbeMode::kFull);
  o.alpn = {"h2", "http/1.1"};
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.alpn, "h2");
  ProbeResult none = RunProbe(Options(ProbeMode::kFull), "127.0.0.1", server->port());
  EXPECT_EQ(none.alpn, "");
}

TEST_F(ProbeTest, RefusedPort) {
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1",
                           testing::FreePort("127.0.0.1"));
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(r.chain.empty());
}

TEST_F(ProbeTest, SilentListenerIsAHandshakeTimeout) {
  ServerOptions so;
  so.behavior = Behavior::kSilent;
  auto server = Serve(so);
  ProbeOptions o = Options(ProbeMode::kCerts);
  o.handshake_timeout_ms = 300;
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.detail, "handshake");
}

TEST_F(ProbeTest, FullBacklogIsAConnectTimeoutRetriedOnce) {
  // A listener with a full accept queue drops SYNs: connect never finishes.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  ASSERT_EQ(listen(fd, 0), 0);
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 2; ++i) {  // fill the queue (backlog 0 holds one)
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    fillers.push_back(c);
  }
  ProbeOptions o = Options(ProbeMode::kCerts);
  o.connect_timeout_ms = 200;
  o.connect_retries = 1;
  ProbeResult r = RunProbe(o, "127.0.0.1", ntohs(sin.sin_port));
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.detail, "connect");
  EXPECT_EQ(r.attempts, 2);
  for (int c : fillers) close(c);
  close(fd);
}

TEST_F(ProbeTest, GarbageIsNotTls) {
  ServerOptions so;
  so.behavior = Behavior::kGarbage;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kNotTls);
  EXPECT_EQ(r.first_bytes.substr(0, 2), std::string("\x00\xff", 2));
}

TEST_F(ProbeTest, PlainHttpIsNotTls) {
  ServerOptions so;
  so.behavior = Behavior::kHttp;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kNotTls);
  EXPECT_THAT(r.first_bytes, HasSubstr("HTTP/1.1"));
}

TEST_F(ProbeTest, ResetIsClassifiedAfterTheLadder) {
  ServerOptions so;
  so.behavior = Behavior::kReset;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kReset);
  EXPECT_EQ(r.attempts, 3);  // every rung was tried
  EXPECT_EQ(server->accepted(), 3);
}

TEST_F(ProbeTest, CloseOnHelloIsReset) {
  ServerOptions so;
  so.behavior = Behavior::kCloseOnHello;
  auto server = Serve(so);
  ProbeOptions o = Options(ProbeMode::kCerts);
  o.fallback = false;
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kReset);
  EXPECT_EQ(r.detail, "closed by peer before any response");
}

TEST_F(ProbeTest, DripFeedHitsTheHandshakeTimeout) {
  ServerOptions so;
  so.behavior = Behavior::kDrip;
  auto server = Serve(so);
  ProbeOptions o = Options(ProbeMode::kCerts);
  o.handshake_timeout_ms = 1500;
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.detail, "handshake");
  EXPECT_GE(r.bytes_received, 1u);
  EXPECT_LE(r.bytes_received, 3u);
}

TEST_F(ProbeTest, EndlessHandshakeIsCutOff) {
  ServerOptions so;
  so.behavior = Behavior::kEndless;
  auto server = Serve(so);
  ProbeOptions o = Options(ProbeMode::kCerts);
  o.fallback = false;
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTlsError);
  EXPECT_FALSE(r.detail.empty());
  EXPECT_LE(r.bytes_received, o.max_handshake_bytes + 64 * 1024);
}

TEST_F(ProbeTest, ByteCapCutsOffLargeChains) {
  // A real chain larger than a (lowered) cap is cut off with a clear reason.
  auto server = Serve(ServerOptions());
  ProbeOptions o = Options(ProbeMode::kCerts);
  o.max_handshake_bytes = 200;
  o.fallback = false;
  ProbeResult r = RunProbe(o, "127.0.0.1", server->port());
  EXPECT_EQ(r.outcome, Outcome::kTlsError);
  EXPECT_THAT(r.detail, HasSubstr("larger than 200 bytes"));
}

// CertificateRecord returns a TLS 1.2 handshake record holding a
// Certificate message with |ders|.
std::string CertificateRecord(const std::vector<std::string>& ders) {
  std::string list;
  for (const std::string& der : ders) {
    list += std::string{static_cast<char>(der.size() >> 16), static_cast<char>(der.size() >> 8),
                        static_cast<char>(der.size())};
    list += der;
  }
  std::string body{static_cast<char>(list.size() >> 16), static_cast<char>(list.size() >> 8),
                   static_cast<char>(list.size())};
  body += list;
  std::string message{'\x0b', static_cast<char>(body.size() >> 16),
                      static_cast<char>(body.size() >> 8), static_cast<char>(body.size())};
  message += body;
  std::string record{'\x16', '\x03', '\x03', static_cast<char>(message.size() >> 8),
                     static_cast<char>(message.size())};
  return record + message;
}

TEST_F(ProbeTest, LeafWithACurveBoringSslCannotParse) {
  // A TLS 1.2 server flight whose Certificate carries a P-192 or a
  // brainpoolP256r1 leaf (x509/testdata): BoringSSL stops at the leaf's
  // key; the probe tries again with the record tap and records the chain,
  // with the reason.
  for (const char* path : {"x509/testdata/p192_leaf.pem", "x509/testdata/brainpool_leaf.pem"}) {
    SCOPED_TRACE(path);
    bssl::UniquePtr<BIO> bio(BIO_new_file(path, "r"));
    ASSERT_TRUE(bio);
    bssl::UniquePtr<X509> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(leaf);
    std::vector<std::string> flight = testing::CaptureTls12Flight(
        {chain_->leaf.get(), chain_->intermediate.get()}, chain_->leaf_key.get());
    ASSERT_GE(flight.size(), 2u);
    const std::vector<std::string> served = {testpki::Der(leaf.get()),
                                             testpki::Der(chain_->intermediate.get())};
    flight[1] = CertificateRecord(served);
    ServerOptions so;
    so.behavior = Behavior::kAlertAtStep;
    so.flight_records = flight;
    so.alert_after_records = 2;
    auto server = Serve(so);
    ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", server->port());
    EXPECT_EQ(r.outcome, Outcome::kTls) << r.detail;
    EXPECT_THAT(r.detail, HasSubstr("chain read from the handshake records: the TLS library "
                                    "rejected the leaf (elliptic curve routines: UNKNOWN_GROUP)"));
    EXPECT_EQ(r.chain, served);
    EXPECT_EQ(r.attempts, 2);
  }
}

TEST(ClientContextTest, RejectsBadAlpn) {
  ProbeOptions o;
  o.alpn = {""};
  EXPECT_EQ(ClientContext::Create(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.alpn = {std::string(256, 'a')};
  EXPECT_FALSE(ClientContext::Create(o).ok());
}


// --- STARTTLS ---------------------------------------------------------------

TEST_F(ProbeTest, SmtpStarttlsCapturesTheChain) {
  ServerOptions so;
  so.behavior = Behavior::kStarttls;
  so.starttls_greeting = "220-mail.test ESMTP\r\n220 ready\r\n";
  so.starttls_steps = {{"EHLO ers.invalid\r\n", "250-mail.test\r\n250 STARTTLS\r\n"},
                       {"STARTTLS\r\n", "220 2.0.0 Ready to start TLS\r\n"}};
  auto server = Serve(so);
  for (ProbeMode mode : {ProbeMode::kCerts, ProbeMode::kFull}) {
    ProbeResult r = RunProbe(Options(mode), "127.0.0.1", server->port(), "", Starttls::kSmtp);
    EXPECT_EQ(r.outcome, Outcome::kTls) << r.detail;
    EXPECT_EQ(r.starttls, Starttls::kSmtp);
    ASSERT_EQ(r.chain.size(), 2u);
    EXPECT_EQ(r.chain[0], testpki::Der(chain_->leaf.get()));
    EXPECT_EQ(r.version_name, "TLSv1.3");
  }
}

TEST_F(ProbeTest, StarttlsRefusedCarriesTheReply) {
  ServerOptions so;
  so.behavior = Behavior::kStarttls;
  so.starttls_greeting = "+OK POP3 ready\r\n";
  so.starttls_steps = {{"STLS\r\n", "-ERR TLS support isn't enabled.\r\n"}};
  so.starttls_then_tls = false;
  auto server = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", server->port(), "",
                           Starttls::kPop3);
  EXPECT_EQ(r.outcome, Outcome::kStarttlsRefused) << r.detail;
  EXPECT_EQ(r.banner, "-ERR TLS support isn't enabled.");
  EXPECT_EQ(r.starttls, Starttls::kPop3);
  EXPECT_TRUE(r.chain.empty());
}

TEST_F(ProbeTest, AnotherProtocolIsNamed) {
  // An SMTP server on a port probed with implicit TLS: its greeting shows.
  ServerOptions so;
  so.behavior = Behavior::kStarttls;
  so.starttls_greeting = "220 mail.test ESMTP Postfix (Debian/GNU)\r\n";
  so.starttls_then_tls = false;
  auto smtp = Serve(so);
  ProbeResult r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", smtp->port());
  EXPECT_EQ(r.outcome, Outcome::kNotTls);
  EXPECT_EQ(r.detail, "the server speaks smtp, not TLS");
  EXPECT_EQ(r.banner, "220 mail.test ESMTP Postfix (Debian/GNU)");
  // The same server asked for IMAP's STARTTLS.
  r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", smtp->port(), "", Starttls::kImap);
  EXPECT_EQ(r.outcome, Outcome::kNotTls);
  EXPECT_EQ(r.detail, "the server speaks smtp, not imap");
  // An HTTP server answering the hello.
  ServerOptions http;
  http.behavior = Behavior::kHttp;
  auto web = Serve(http);
  r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", web->port());
  EXPECT_EQ(r.outcome, Outcome::kNotTls);
  EXPECT_EQ(r.banner, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(r.detail, "the server speaks http, not TLS");
}

TEST_F(ProbeTest, HostileStarttlsPeers) {
  ProbeOptions quick = Options(ProbeMode::kCerts);
  quick.handshake_timeout_ms = 300;
  // A server that never greets: a timeout in the STARTTLS phase.
  ServerOptions silent;
  silent.behavior = Behavior::kSilent;
  auto quiet = Serve(silent);
  ProbeResult r = RunProbe(quick, "127.0.0.1", quiet->port(), "", Starttls::kSmtp);
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.detail, "starttls");
  // A server that agrees, then sends garbage instead of TLS.
  ServerOptions garbage;
  garbage.behavior = Behavior::kStarttls;
  garbage.starttls_greeting = "* OK ready\r\n";
  garbage.starttls_steps = {{"ers1 STARTTLS\r\n", "ers1 OK go\r\nthis is not TLS at all\r\n"}};
  garbage.starttls_then_tls = false;
  auto liar = Serve(garbage);
  r = RunProbe(quick, "127.0.0.1", liar->port(), "", Starttls::kImap);
  EXPECT_EQ(r.outcome, Outcome::kNotTls) << r.detail;
  EXPECT_EQ(r.starttls, Starttls::kImap);
  // Endless greeting lines: refused once the plain-text budget is spent,
  // long before the timeout.
  ServerOptions endless;
  endless.behavior = Behavior::kStarttls;
  for (int i = 0; i < 10000; ++i) endless.starttls_greeting += "220-and more greeting\r\n";
  endless.starttls_then_tls = false;
  auto chatty = Serve(endless);
  r = RunProbe(Options(ProbeMode::kCerts), "127.0.0.1", chatty->port(), "", Starttls::kSmtp);
  EXPECT_EQ(r.outcome, Outcome::kStarttlsRefused) << r.detail;
  EXPECT_LE(r.bytes_received, StarttlsDialog::kMaxBytes + 64 * 1024);
  EXPECT_THAT(r.banner, HasSubstr("plain text without an answer"));
}

}  // namespace
}  // namespace ers

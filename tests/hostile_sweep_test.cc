// A sweep through a farm of hostile servers on loopback, next to one honest
// server: every hostile endpoint gets a classified outcome, memory stays
// under a stated bound, and the honest endpoint is not delayed by its
// neighbours.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "scanner/engine.h"
#include "tlsprobe/starttls.h"
#include "tests/test_pki.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

using testing::Behavior;

// Peak RSS of this process (servers included), in MiB.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      status >> kb;
      return kb / 1024;
    }
  }
  return 0;
}

// The stated bound: the whole test process, its servers and a 1 MiB
// certificate included, stays under 256 MiB.
constexpr double kRssBoundMiB = 256;

// FarmSweep is what SweepFarm saw: each result by address, the addresses in
// the order their results came, and the sweep's wall time.
struct FarmSweep {
  std::map<std::string, ProbeResult> results;
  std::vector<std::string> order;
  double elapsed_s = 0;
};

// SweepFarm starts a server for each of |servers| (address and port set by
// the caller) and sweeps them all on one loop with |po| and |eo|.
FarmSweep SweepFarm(const std::vector<testing::ServerOptions>& servers, const ProbeOptions& po,
                    const EngineOptions& eo) {
  FarmSweep out;
  std::vector<std::unique_ptr<testing::TestServer>> running;
  TargetSpace::Builder builder;
  for (const testing::ServerOptions& o : servers) {
    std::string error;
    running.push_back(testing::TestServer::Start(o, &error));
    EXPECT_NE(running.back(), nullptr) << error;
    if (running.back() == nullptr) return out;
    builder.AddRange(*ParseIpRange(o.address), *PortList::Parse(std::to_string(o.port)));
  }
  TargetSpace space = *std::move(builder).Build();
  TargetWalker walker(&space, 3, Shard{1, 1});
  auto context = ClientContext::Create(po);
  EXPECT_TRUE(context.ok());
  if (!context.ok()) return out;
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto engine = Engine::Create(&loop, &space, &walker, context->get(), eo,
                               [&](const ProbeResult& r, uint64_t) {
                                 out.results[r.address.ToString()] = r;
                                 out.order.push_back(r.address.ToString());
                               });
  EXPECT_TRUE(engine.ok());
  if (engine.ok()) {
    const uint64_t start = uv_hrtime();
    EXPECT_TRUE((*engine)->Run().ok());
    out.elapsed_s = (uv_hrtime() - start) / 1e9;
    engine->reset();
  }
  uv_loop_close(&loop);
  return out;
}

TEST(HostileSweepTest, EveryHostileServerIsClassified) {
  testpki::Chain chain = testpki::MakeChain("honest.test", testpki::KeyType::kEcP256);
  // A 1 MiB certificate: one huge extension.
  testpki::CertSpec big_spec;
  big_spec.common_name = "big.test";
  auto big_key = testpki::MakeKey(testpki::KeyType::kEcP256);
  bssl::UniquePtr<X509> big = testpki::MakeCert(big_spec, big_key.get(), nullptr, big_key.get());
  {
    bssl::UniquePtr<ASN1_OCTET_STRING> blob(ASN1_OCTET_STRING_new());
    std::string filler(1 << 20, 'x');
    ASN1_OCTET_STRING_set(blob.get(), reinterpret_cast<const uint8_t*>(filler.data()),
                          static_cast<int>(filler.size()));
    bssl::UniquePtr<ASN1_OBJECT> oid(OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1));
    bssl::UniquePtr<X509_EXTENSION> ext(
        X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, blob.get()));
    X509_add_ext(big.get(), ext.get(), -1);
    X509_sign(big.get(), big_key.get(), EVP_sha256());
  }
  // A chain of 100 certificates: the leaf and 99 copies of its issuer.
  std::vector<X509*> long_chain = {chain.leaf.get()};
  for (int i = 0; i < 99; ++i) long_chain.push_back(chain.intermediate.get());

  const std::string hrr = testing::CaptureHelloRetryRequest();
  ASSERT_GT(hrr.size(), 50u);
  const std::vector<std::string> flight =
      testing::CaptureTls12Flight({chain.leaf.get(), chain.intermediate.get()},
                                  chain.leaf_key.get());
  ASSERT_GE(flight.size(), 4u);  // ServerHello, Certificate, ServerKeyExchange, Done
  struct Case {
    const char* name;
    Behavior behavior;
    std::vector<X509*> chain;
    EVP_PKEY* key;
    std::string groups;
    Outcome expected;
    int alert_after = 0;
  };
  std::vector<Case> cases = {
      {"honest", Behavior::kTls, {chain.leaf.get(), chain.intermediate.get()},
       chain.leaf_key.get(), "", Outcome::kTls},
      {"endless", Behavior::kEndless, {}, nullptr, "", Outcome::kTlsError},
      {"huge_certificate", Behavior::kTls, {big.get()}, big_key.get(), "", Outcome::kTlsError},
      {"hundred_certificates", Behavior::kTls, long_chain, chain.leaf_key.get(), "",
       Outcome::kTls},
      {"malformed", Behavior::kMalformed, {}, nullptr, "", Outcome::kTlsError},
      {"alert", Behavior::kAlert, {}, nullptr, "", Outcome::kTlsAlert},
      {"hello_retry", Behavior::kTls, {chain.leaf.get(), chain.intermediate.get()},
       chain.leaf_key.get(), "P-384", Outcome::kTls},
      {"reset_mid_flight", Behavior::kResetMidFlight, {}, nullptr, "", Outcome::kReset},
      {"drip", Behavior::kDrip, {}, nullptr, "", Outcome::kTimeout},
      {"silent", Behavior::kSilent, {}, nullptr, "", Outcome::kTimeout},
      {"garbage", Behavior::kGarbage, {}, nullptr, "", Outcome::kNotTls},
      {"hello_retry_loop", Behavior::kHelloRetryLoop, {}, nullptr, "", Outcome::kTlsError},
      // An alert at each step of a TLS 1.2 server flight. Before the
      // Certificate it ends the probe as tls_alert; from the Certificate on,
      // the chain is already captured (certs mode): tls.
      {"alert_after_server_hello", Behavior::kAlertAtStep, {}, nullptr, "",
       Outcome::kTlsAlert, 1},
      {"alert_after_certificate", Behavior::kAlertAtStep, {}, nullptr, "", Outcome::kTls, 2},
      {"alert_after_key_exchange", Behavior::kAlertAtStep, {}, nullptr, "", Outcome::kTls, 3},
      {"alert_after_hello_done", Behavior::kAlertAtStep, {}, nullptr, "", Outcome::kTls, 4},
  };
  const uint16_t port = testing::FreePort("127.0.0.1");
  std::vector<testing::ServerOptions> servers;
  std::map<std::string, const Case*> by_address;
  for (size_t i = 0; i < cases.size(); ++i) {
    testing::ServerOptions o;
    o.behavior = cases[i].behavior;
    o.address = "127.0.70." + std::to_string(i + 1);
    o.port = port;
    o.chain = cases[i].chain;
    o.key = cases[i].key;
    o.groups = cases[i].groups;
    o.hello_retry_request = hrr;
    o.flight_records = flight;
    o.alert_after_records = cases[i].alert_after;
    servers.push_back(o);
    by_address[o.address] = &cases[i];
  }
  ProbeOptions po;
  po.handshake_timeout_ms = 2000;
  po.fallback = false;  // one attempt each: the outcomes are the servers' own
  FarmSweep sweep = SweepFarm(servers, po, EngineOptions());
  std::map<std::string, ProbeResult>& results = sweep.results;
  const double elapsed_s = sweep.elapsed_s;

  ASSERT_EQ(results.size(), cases.size());
  for (const auto& [address, r] : results) {
    const Case& c = *by_address[address];
    SCOPED_TRACE(c.name);
    EXPECT_EQ(OutcomeName(r.outcome), std::string(OutcomeName(c.expected))) << r.detail;
    EXPECT_LE(r.bytes_received, po.max_handshake_bytes + 64 * 1024);
    printf("  %-22s %-10s %8.1f ms  %s\n", c.name, OutcomeName(r.outcome),
           r.connect_ms + r.handshake_ms, r.detail.c_str());
  }
  EXPECT_EQ(results["127.0.70.4"].chain.size(), 100u);
  EXPECT_EQ(results["127.0.70.7"].group, "P-384") << "the HelloRetryRequest was followed";
  // The loop: the first HelloRetryRequest was accepted (a second ClientHello
  // went out), the second was refused.
  EXPECT_GE(results["127.0.70.12"].bytes_received, 2 * hrr.size());
  // The honest server answered at once, whatever its neighbours did.
  const ProbeResult& honest = results["127.0.70.1"];
  EXPECT_LT(honest.connect_ms + honest.handshake_ms, 500);
  // The whole sweep is bounded by the handshake timeout, not by the
  // hostile servers (the drip would take 30 s).
  EXPECT_LT(elapsed_s, 2.0 + 3.0);
  EXPECT_LT(PeakRssMiB(), kRssBoundMiB);
  printf("hostile sweep: %.2f s, peak RSS %.1f MiB (bound %.0f)\n", elapsed_s, PeakRssMiB(),
         kRssBoundMiB);
}

TEST(HostileSweepTest, HostileStarttlsPeersAreClassified) {
  // Plain-text peers on one port upgraded with SMTP STARTTLS, next to an
  // honest one: each is classified within bounded memory, and the honest
  // server is not delayed by the silent one's timeout.
  testpki::Chain chain = testpki::MakeChain("mail.test", testpki::KeyType::kEcP256);
  std::string endless;
  for (int i = 0; i < 10000; ++i) endless += "220-and more greeting\r\n";
  const std::string megabyte_line = "220 " + std::string(1 << 20, 'x') + "\r\n";
  const std::vector<std::pair<std::string, std::string>> ehlo = {
      {"EHLO", "250-mail.test\r\n250 STARTTLS\r\n"}};
  struct Case {
    const char* name;
    Behavior behavior;
    std::string greeting;
    std::vector<std::pair<std::string, std::string>> steps;
    bool then_tls;
    Outcome expected;
  };
  std::vector<Case> cases = {
      {"honest", Behavior::kStarttls, "220 mail.test ESMTP\r\n",
       {ehlo[0], {"STARTTLS", "220 go ahead\r\n"}}, true, Outcome::kTls},
      {"silent", Behavior::kSilent, "", {}, false, Outcome::kTimeout},
      {"endless_lines", Behavior::kStarttls, endless, {}, false, Outcome::kStarttlsRefused},
      {"megabyte_line", Behavior::kStarttls, megabyte_line, {}, false,
       Outcome::kStarttlsRefused},
      {"garbage_after_go_ahead", Behavior::kStarttls, "220 mail.test ESMTP\r\n",
       {ehlo[0], {"STARTTLS", "220 go ahead\r\nthis is not TLS\r\n"}}, false,
       Outcome::kNotTls},
      {"refuses", Behavior::kStarttls, "220 mail.test ESMTP\r\n",
       {ehlo[0], {"STARTTLS", "454 4.7.0 TLS not available\r\n"}}, false,
       Outcome::kStarttlsRefused},
  };
  const uint16_t port = testing::FreePort("127.0.0.1");
  std::vector<testing::ServerOptions> servers;
  std::map<std::string, const Case*> by_address;
  for (size_t i = 0; i < cases.size(); ++i) {
    testing::ServerOptions o;
    o.behavior = cases[i].behavior;
    o.address = "127.0.71." + std::to_string(i + 1);
    o.port = port;
    o.chain = {chain.leaf.get(), chain.intermediate.get()};
    o.key = chain.leaf_key.get();
    o.starttls_greeting = cases[i].greeting;
    o.starttls_steps = cases[i].steps;
    o.starttls_then_tls = cases[i].then_tls;
    servers.push_back(o);
    by_address[o.address] = &cases[i];
  }
  ProbeOptions po;
  po.handshake_timeout_ms = 2000;
  po.fallback = false;
  EngineOptions eo;
  auto table = StarttlsTable::Parse(absl::StrCat(port, "=smtp"));
  ASSERT_TRUE(table.ok());
  eo.starttls = *table;
  FarmSweep sweep = SweepFarm(servers, po, eo);
  std::map<std::string, ProbeResult>& results = sweep.results;
  const std::vector<std::string>& order = sweep.order;

  ASSERT_EQ(results.size(), cases.size());
  for (const auto& [address, r] : results) {
    const Case& c = *by_address[address];
    SCOPED_TRACE(c.name);
    EXPECT_EQ(OutcomeName(r.outcome), std::string(OutcomeName(c.expected))) << r.detail;
    EXPECT_EQ(r.starttls, Starttls::kSmtp);
    EXPECT_LE(r.bytes_received, StarttlsDialog::kMaxBytes + 64 * 1024);
    printf("  %-24s %-17s %s | %s\n", c.name, OutcomeName(r.outcome), r.detail.c_str(),
           r.banner.substr(0, 60).c_str());
  }
  EXPECT_EQ(results["127.0.71.1"].chain.size(), 2u);
  EXPECT_EQ(results["127.0.71.6"].banner, "454 4.7.0 TLS not available");
  // Only the silent peer waits for the timeout: it is the last result.
  EXPECT_EQ(order.back(), "127.0.71.2");
  EXPECT_LT(PeakRssMiB(), kRssBoundMiB);
}

}  // namespace
}  // namespace ers

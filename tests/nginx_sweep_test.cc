// End-to-end sweep against a real nginx from Debian on loopback: the farm's
// layout is the truth; every TLS endpoint must be found with the chain it
// serves, and nothing else reported as TLS.
#include <sys/stat.h>

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "scanner/engine.h"
#include "tests/nginx_farm.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

class NginxSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/nginx_farm";
    mkdir(dir_.c_str(), 0700);
    // Three ports free on loopback, on 127.0.77.0/24.
    for (int i = 0; i < 3; ++i) ports_.push_back(testing::FreePort("127.0.0.1"));
    auto ep = [&](const char* address, int port_index, const char* name) {
      testing::FarmEndpoint e;
      e.address = address;
      e.port = ports_[port_index];
      e.name = name;
      return e;
    };
    farm_ = {ep("127.0.77.1", 0, "a.farm.test"), ep("127.0.77.1", 1, "b.farm.test"),
             ep("127.0.77.9", 2, "c.farm.test"), ep("127.0.77.200", 0, "d.farm.test"),
             ep("127.0.77.201", 1, "e.farm.test"), ep("127.0.77.250", 2, "http")};
    farm_[1].key_type = testpki::KeyType::kRsa2048;
    farm_[2].protocols = "TLSv1.2";
    farm_[3].self_signed = true;
    farm_[4].expired = true;
    farm_[5].tls = false;
    std::string error;
    ASSERT_TRUE(testing::WriteFarm(dir_, &farm_, 2, &error)) << error;
    ASSERT_TRUE(testing::StartNginx(dir_, &error)) << error;
    started_ = true;
  }
  void TearDown() override {
    if (started_) testing::StopNginx(dir_);
  }

  std::string dir_;
  std::vector<uint16_t> ports_;
  std::vector<testing::FarmEndpoint> farm_;
  bool started_ = false;
};

TEST_F(NginxSweepTest, EveryEndpointFoundWithItsChain) {
  for (ProbeMode mode : {ProbeMode::kCerts, ProbeMode::kFull}) {
    SCOPED_TRACE(ProbeModeName(mode));
    std::vector<PortList::Range> ranges;
    for (uint16_t p : ports_) ranges.push_back({p, p});
    TargetSpace::Builder b;
    b.AddRange(*ParseIpRange("127.0.77.0/24"), PortList::FromRanges(ranges));
    TargetSpace space = *std::move(b).Build();
    TargetWalker walker(&space, 42, Shard{1, 1});
    ProbeOptions po;
    po.mode = mode;
    po.handshake_timeout_ms = 5000;
    auto context = ClientContext::Create(po);
    ASSERT_TRUE(context.ok());
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::map<std::string, ProbeResult> results;
    EngineOptions eo;
    eo.concurrency = 256;
    auto engine = Engine::Create(&loop, &space, &walker, context->get(), eo,
                                 [&](const ProbeResult& r, uint64_t) {
                                   results[r.address.ToString() + ":" +
                                           std::to_string(r.port)] = r;
                                 });
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE((*engine)->Run().ok());
    engine->reset();
    uv_loop_close(&loop);

    ASSERT_EQ(results.size(), 256u * 3u) << "one result per target";
    std::set<std::string> expected_tls;
    for (const testing::FarmEndpoint& e : farm_) {
      std::string key = e.address + ":" + std::to_string(e.port);
      const ProbeResult& r = results[key];
      if (!e.tls) {
        EXPECT_EQ(r.outcome, Outcome::kNotTls) << key;
        continue;
      }
      expected_tls.insert(key);
      EXPECT_EQ(r.outcome, Outcome::kTls) << key << ": " << r.detail;
      EXPECT_EQ(r.chain, e.served_der) << key;
      if (e.protocols == "TLSv1.2") {
        EXPECT_EQ(r.version_name, "TLSv1.2") << key;
      }
    }
    std::set<std::string> found_tls;
    for (const auto& [key, r] : results) {
      if (r.outcome == Outcome::kTls) found_tls.insert(key);
    }
    EXPECT_EQ(found_tls, expected_tls);
  }
}

}  // namespace
}  // namespace ers

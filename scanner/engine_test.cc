// Engine tests: sweeps of loopback ranges against in-process servers whose
// places are known, so every result can be checked against the truth.
#include "scanner/engine.h"

#include <sys/resource.h>

#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scanner/token_bucket.h"
#include "tests/test_pki.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

using ::ers::testing::Behavior;
using ::ers::testing::ServerOptions;
using ::ers::testing::TestServer;

std::string Key(const IpAddress& a, uint16_t port) {
  return a.ToString() + ":" + std::to_string(port);
}

struct Sweep {
  std::vector<ProbeResult> results;
  EngineStats stats;
  uint64_t resume_position = 0;
};

// RunSweep sweeps |space| with |options| and returns every result.
// |stop_after|, if set, stops the engine after that many results.
Sweep RunSweep(const TargetSpace& space, TargetWalker* walker,
               const ProbeOptions& probe_options, EngineOptions options,
               size_t stop_after = 0) {
  auto context = ClientContext::Create(probe_options);
  EXPECT_TRUE(context.ok());
  uv_loop_t loop;
  uv_loop_init(&loop);
  Sweep sweep;
  Engine* engine_ptr = nullptr;
  auto engine = Engine::Create(
      &loop, &space, walker, context->get(), std::move(options),
      [&](const ProbeResult& r, uint64_t) {
        sweep.results.push_back(r);
        if (stop_after > 0 && sweep.results.size() == stop_after) {
          engine_ptr->Stop();
        }
      });
  EXPECT_TRUE(engine.ok()) << engine.status();
  engine_ptr = engine->get();
  EXPECT_TRUE((*engine)->Run().ok());
  sweep.stats = (*engine)->stats();
  sweep.resume_position = (*engine)->ResumePosition();
  engine->reset();
  EXPECT_EQ(uv_loop_close(&loop), 0) << "handles left open";
  return sweep;
}

ProbeOptions FastProbes() {
  ProbeOptions o;
  o.connect_timeout_ms = 1000;
  o.handshake_timeout_ms = 500;
  return o;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chain_ = testpki::MakeChain("farm.test", testpki::KeyType::kEcP256);
    // Three ports free on 127.0.0.1; assumed free on the rest of the /24.
    for (int i = 0; i < 3; ++i) ports_.push_back(testing::FreePort("127.0.0.1"));
  }
  std::unique_ptr<TestServer> Serve(Behavior behavior, const char* address,
                                    uint16_t port) {
    ServerOptions o;
    o.behavior = behavior;
    o.address = address;
    o.port = port;
    o.chain = {chain_.leaf.get(), chain_.intermediate.get()};
    o.key = chain_.leaf_key.get();
    std::string error;
    auto s = TestServer::Start(o, &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }
  TargetSpace Space(const char* range, PrefixSet exclusions = PrefixSet()) {
    std::vector<PortList::Range> ranges;
    for (uint16_t p : ports_) ranges.push_back({p, p});
    TargetSpace::Builder b;
    b.AddRange(*ParseIpRange(range), PortList::FromRanges(ranges));
    b.SetExclusions(std::move(exclusions));
    return *std::move(b).Build();
  }
  testpki::Chain chain_;
  std::vector<uint16_t> ports_;
};

TEST_F(EngineTest, SweepOfASlash24FindsExactlyTheTlsEndpoints) {
  auto tls_a = Serve(Behavior::kTls, "127.0.0.10", ports_[0]);
  auto tls_b = Serve(Behavior::kTls, "127.0.0.20", ports_[1]);
  auto silent = Serve(Behavior::kSilent, "127.0.0.30", ports_[2]);
  auto http = Serve(Behavior::kHttp, "127.0.0.40", ports_[0]);
  TargetSpace space = Space("127.0.0.0/24");
  TargetWalker walker(&space, 11, Shard{1, 1});
  EngineOptions eo;
  eo.concurrency = 200;
  Sweep sweep = RunSweep(space, &walker, FastProbes(), eo);

  ASSERT_EQ(sweep.results.size(), 256u * 3u);
  std::map<std::string, const ProbeResult*> by_target;
  for (const ProbeResult& r : sweep.results) {
    EXPECT_TRUE(by_target.emplace(Key(r.address, r.port), &r).second)
        << "reported twice: " << Key(r.address, r.port);
  }
  std::set<std::string> tls;
  for (const auto& [key, r] : by_target) {
    if (r->outcome == Outcome::kTls) {
      tls.insert(key);
      ASSERT_EQ(r->chain.size(), 2u);
      EXPECT_EQ(r->chain[0], testpki::Der(chain_.leaf.get()));
      EXPECT_TRUE(r->sni.empty()) << "IP targets send no SNI by default";
    }
  }
  EXPECT_EQ(tls, (std::set<std::string>{"127.0.0.10:" + std::to_string(ports_[0]),
                                        "127.0.0.20:" + std::to_string(ports_[1])}));
  EXPECT_EQ(by_target["127.0.0.30:" + std::to_string(ports_[2])]->outcome,
            Outcome::kTimeout);
  EXPECT_EQ(by_target["127.0.0.40:" + std::to_string(ports_[0])]->outcome,
            Outcome::kNotTls);
  EXPECT_EQ(by_target["127.0.0.99:" + std::to_string(ports_[1])]->outcome,
            Outcome::kRefused);
  EXPECT_EQ(sweep.stats.results, 768u);
  EXPECT_EQ(sweep.stats.by_outcome[static_cast<int>(Outcome::kTls)], 2u);
  EXPECT_EQ(sweep.resume_position, walker.shard_size());
}

TEST_F(EngineTest, HostNamesAreResolvedAndSentAsSni) {
  auto tls = Serve(Behavior::kTls, "127.0.0.1", ports_[0]);
  TargetSpace::Builder b;
  b.AddServer(*ParseServer("web.example.com"), *PortList::Parse(std::to_string(ports_[0])));
  b.AddServer(*ParseServer("localhost"), *PortList::Parse(std::to_string(ports_[0])));
  TargetSpace space = *std::move(b).Build();
  TargetWalker walker(&space, 1, Shard{1, 1});
  EngineOptions eo;
  // The test's own resolver: the listing's name maps to loopback.
  eo.resolve = {{"web.example.com", *ParseIpAddress("127.0.0.1")}};
  Sweep sweep = RunSweep(space, &walker, FastProbes(), eo);
  std::map<std::string, std::vector<const ProbeResult*>> by_name;
  for (const ProbeResult& r : sweep.results) by_name[r.name].push_back(&r);
  ASSERT_EQ(by_name["web.example.com"].size(), 1u);
  EXPECT_EQ(by_name["web.example.com"][0]->outcome, Outcome::kTls);
  EXPECT_EQ(by_name["web.example.com"][0]->sni, "web.example.com");
  // "localhost" goes through the real (asynchronous) resolver: every address
  // it resolves to is probed, 127.0.0.1 among them.
  ASSERT_GE(by_name["localhost"].size(), 1u);
  bool found = false;
  for (const ProbeResult* r : by_name["localhost"]) {
    EXPECT_EQ(r->sni, "localhost");
    if (r->address == *ParseIpAddress("127.0.0.1")) {
      found = true;
      EXPECT_EQ(r->outcome, Outcome::kTls);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(sweep.stats.names_resolved, 1u);
}

TEST_F(EngineTest, ExclusionsAreNeverContacted) {
  auto excluded = Serve(Behavior::kTls, "127.0.0.10", ports_[0]);
  auto allowed = Serve(Behavior::kTls, "127.0.0.11", ports_[0]);
  PrefixSet ex;
  ex.Insert(*ParseIpAddress("127.0.0.10"), 32);
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("127.0.0.8/29"), *PortList::Parse(std::to_string(ports_[0])));
  // A name that resolves to the excluded address.
  b.AddServer(*ParseServer("internal.example.com"),
              *PortList::Parse(std::to_string(ports_[0])));
  b.SetExclusions(std::move(ex));
  TargetSpace space = *std::move(b).Build();
  TargetWalker walker(&space, 1, Shard{1, 1});
  EngineOptions eo;
  eo.resolve = {{"internal.example.com", *ParseIpAddress("127.0.0.10")}};
  Sweep sweep = RunSweep(space, &walker, FastProbes(), eo);
  EXPECT_EQ(excluded->accepted(), 0);
  EXPECT_EQ(allowed->accepted(), 1);
  int excluded_results = 0;
  for (const ProbeResult& r : sweep.results) {
    if (r.outcome == Outcome::kExcluded) {
      ++excluded_results;
      EXPECT_EQ(r.name, "internal.example.com");
    }
  }
  EXPECT_EQ(excluded_results, 1);
  EXPECT_EQ(sweep.results.size(), 7u + 1u);
}

TEST_F(EngineTest, SniNamesForAddressTargets) {
  auto tls = Serve(Behavior::kTls, "127.0.0.1", ports_[0]);
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("127.0.0.1"), *PortList::Parse(std::to_string(ports_[0])));
  TargetSpace space = *std::move(b).Build();
  TargetWalker walker(&space, 1, Shard{1, 1});
  EngineOptions eo;
  eo.sni_names = {"", "a.example.com", "b.example.com"};
  Sweep sweep = RunSweep(space, &walker, FastProbes(), eo);
  std::set<std::string> snis;
  for (const ProbeResult& r : sweep.results) {
    EXPECT_EQ(r.outcome, Outcome::kTls);
    snis.insert(r.sni);
  }
  EXPECT_EQ(snis, (std::set<std::string>{"", "a.example.com", "b.example.com"}));
  EXPECT_EQ(tls->accepted(), 3);
}

TEST_F(EngineTest, PerAddressCapHoldsAndEveryTargetCompletes) {
  // 30 silent ports on one address: with a cap of 2, at most 2 are in
  // flight at once, and all 30 still finish.
  std::vector<std::unique_ptr<TestServer>> servers;
  std::vector<PortList::Range> ranges;
  for (int i = 0; i < 30; ++i) {
    servers.push_back(Serve(Behavior::kSilent, "127.0.0.50", 0));
    ranges.push_back({servers.back()->port(), servers.back()->port()});
  }
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("127.0.0.50"), PortList::FromRanges(ranges));
  TargetSpace space = *std::move(b).Build();
  TargetWalker walker(&space, 1, Shard{1, 1});
  EngineOptions eo;
  eo.per_address_cap = 2;
  ProbeOptions po = FastProbes();
  po.handshake_timeout_ms = 50;
  Sweep sweep = RunSweep(space, &walker, po, eo);
  EXPECT_EQ(sweep.results.size(), 30u);
  EXPECT_EQ(sweep.stats.peak_in_flight, 2u);
  for (const ProbeResult& r : sweep.results) EXPECT_EQ(r.outcome, Outcome::kTimeout);
}

TEST_F(EngineTest, StopThenResumeLosesNothing) {
  TargetSpace space = Space("127.0.1.0/24");  // all refused, fast
  TargetWalker first(&space, 5, Shard{1, 1});
  EngineOptions eo;
  eo.concurrency = 16;
  Sweep part1 = RunSweep(space, &first, FastProbes(), eo, /*stop_after=*/100);
  ASSERT_GE(part1.results.size(), 100u);
  ASSERT_LT(part1.results.size(), 768u);
  std::string saved = first.SavePosition(part1.resume_position);

  TargetWalker second(&space, 5, Shard{1, 1});
  ASSERT_TRUE(second.RestorePosition(saved).ok());
  Sweep part2 = RunSweep(space, &second, FastProbes(), eo);

  std::multiset<std::string> seen;
  for (const auto* part : {&part1, &part2}) {
    for (const ProbeResult& r : part->results) seen.insert(Key(r.address, r.port));
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), 768u) << "a target was lost";
  // Repeats are limited to the in-flight window at the stop.
  EXPECT_LE(seen.size() - unique.size(), eo.concurrency);
}

TEST_F(EngineTest, FileDescriptorExhaustionIsBackPressureNotLoss) {
  TargetSpace space = Space("127.0.2.0/25");  // 384 refused targets
  TargetWalker walker(&space, 3, Shard{1, 1});
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  auto context = ClientContext::Create(FastProbes());
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<ProbeResult> results;
  EngineOptions eo;
  eo.concurrency = 300;
  auto engine = Engine::Create(&loop, &space, &walker, context->get(), eo,
                               [&](const ProbeResult& r, uint64_t) { results.push_back(r); });
  ASSERT_TRUE(engine.ok());
  // Now leave room for only ~20 sockets: most connects hit EMFILE.
  int probe_fd = dup(0);
  close(probe_fd);
  rlimit tight = saved;
  tight.rlim_cur = probe_fd + 20;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  absl::Status run = (*engine)->Run();
  setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(run.ok());
  EXPECT_GT((*engine)->stats().backpressure_events, 0u);
  std::set<std::string> unique;
  for (const ProbeResult& r : results) {
    EXPECT_EQ(r.outcome, Outcome::kRefused) << r.detail;
    unique.insert(Key(r.address, r.port));
  }
  EXPECT_EQ(results.size(), 384u);
  EXPECT_EQ(unique.size(), 384u);
  engine->reset();
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(TokenBucketTest, RateAndBurst) {
  TokenBucket b(100, 5);  // 100/s, bursts of 5
  uint64_t t = 1'000'000'000;
  int taken = 0;
  while (b.TryTake(t)) ++taken;
  EXPECT_EQ(taken, 5);
  EXPECT_GT(b.NanosUntilNext(t), 9'000'000u);
  EXPECT_LE(b.NanosUntilNext(t), 10'000'001u);
  // Over one simulated second at 1 ms steps: 100 more tokens.
  int later = 0;
  for (int ms = 1; ms <= 1000; ++ms) {
    while (b.TryTake(t + ms * 1'000'000ull)) ++later;
  }
  EXPECT_GE(later, 99);
  EXPECT_LE(later, 101);
  TokenBucket unlimited(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.TryTake(t));
}

}  // namespace
}  // namespace ers

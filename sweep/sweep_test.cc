// Sweep tests: the public API against in-process loopback servers whose
// places are known, in one loop and with worker processes.
#include "ers/sweep.h"

#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sweep/json_lines_sink.h"
#include "sweep/record_json.h"
#include "tests/test_pki.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

using ::ers::testing::Behavior;
using ::ers::testing::ServerOptions;
using ::ers::testing::TestServer;

// Farm is two TLS servers (one chain, so the analysis is shared), a refused
// port and a silent one on 127.0.0.1.
struct Farm {
  testpki::Chain chain = testpki::MakeChain("farm.test", testpki::KeyType::kEcP256);
  std::vector<std::unique_ptr<TestServer>> tls;
  std::unique_ptr<TestServer> silent;
  uint16_t refused = 0;
  std::string roots_file;

  Farm() {
    for (int i = 0; i < 2; ++i) {
      ServerOptions o;
      o.chain = {chain.leaf.get(), chain.intermediate.get()};
      o.key = chain.leaf_key.get();
      std::string error;
      tls.push_back(TestServer::Start(o, &error));
      EXPECT_NE(tls.back(), nullptr) << error;
    }
    ServerOptions s;
    s.behavior = Behavior::kSilent;
    std::string error;
    silent = TestServer::Start(s, &error);
    refused = testing::FreePort("127.0.0.1");
    roots_file = absl::StrCat(getenv("TEST_TMPDIR"), "/roots.pem");
    EXPECT_TRUE(testpki::WriteFile(roots_file, testpki::CertPem(chain.root.get())));
  }
  std::string Ports() const {
    return absl::StrCat(tls[0]->port(), ",", tls[1]->port(), ",", refused, ",",
                        silent->port());
  }
  SweepOptions Options() const {
    SweepOptions o;
    o.targets = "127.0.0.1";
    o.ports = Ports();
    o.handshake_timeout = absl::Milliseconds(300);
    o.system_roots = false;
    o.root_files = {roots_file};
    o.sni_discovery = false;  // one record per target (SniDiscovery below)
    return o;
  }
};

TEST(SweepTest, EveryTargetGetsOneTypedRecordWithItsAnalysis) {
  Farm farm;
  auto sweep = Sweep::Create(farm.Options());
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ((*sweep)->num_targets(), 4u);
  std::map<uint16_t, ScanRecord> by_port;
  ASSERT_TRUE((*sweep)->Run([&](const ScanRecord& r) { by_port[r.result.port] = r; }).ok());
  ASSERT_EQ(by_port.size(), 4u);
  for (int i = 0; i < 2; ++i) {
    const ScanRecord& r = by_port[farm.tls[i]->port()];
    EXPECT_EQ(r.result.outcome, Outcome::kTls);
    ASSERT_NE(r.chain, nullptr);
    EXPECT_TRUE(r.chain->analysed);
    EXPECT_TRUE(r.chain->trusted) << r.chain->analysis_json;
    ASSERT_EQ(r.chain->certificates.size(), 2u);
    EXPECT_EQ(r.chain->certificates[0].subject_cn, "farm.test");
    EXPECT_EQ(r.chain->certificates[0].sha256_hex.size(), 64u);
  }
  // One chain served twice: analysed once, shared.
  EXPECT_EQ(by_port[farm.tls[0]->port()].chain, by_port[farm.tls[1]->port()].chain);
  EXPECT_EQ((*sweep)->summary().chains_analysed, 1u);
  EXPECT_EQ(by_port[farm.refused].result.outcome, Outcome::kRefused);
  EXPECT_EQ(by_port[farm.refused].chain, nullptr);
  EXPECT_EQ(by_port[farm.silent->port()].result.outcome, Outcome::kTimeout);
  EXPECT_FALSE((*sweep)->summary().interrupted);
  EXPECT_EQ((*sweep)->resume_point(), "");
  EXPECT_EQ((*sweep)->progress().results, 4u);
  EXPECT_EQ((*sweep)->progress().tls, 2u);
}

TEST(SweepTest, SniDiscoveryTriesTheLeafsNamesOnEachAnsweringEndpoint) {
  // The farm's leaf is issued for farm.test: each TLS endpoint is probed a
  // second time with that name; the same certificate comes back, so no
  // record is made of it. --sni's name is tried after it and recorded. The
  // refused and silent ports get no second probe.
  Farm farm;
  SweepOptions o = farm.Options();
  o.sni_discovery = true;
  o.sni = {"other.test"};
  auto sweep = Sweep::Create(o);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  std::vector<ScanRecord> records;
  ASSERT_TRUE((*sweep)->Run([&](const ScanRecord& r) { records.push_back(r); }).ok());
  ASSERT_EQ(records.size(), 6u);
  std::map<std::pair<uint16_t, std::string>, const ScanRecord*> by;
  for (const ScanRecord& r : records) by[{r.result.port, r.result.sni}] = &r;
  for (int i = 0; i < 2; ++i) {
    const uint16_t port = farm.tls[i]->port();
    const auto plain = by.find({port, ""});
    const auto given = by.find({port, "other.test"});
    ASSERT_TRUE(plain != by.end() && given != by.end());
    EXPECT_EQ(by.count({port, "farm.test"}), 0u);
    EXPECT_EQ(plain->second->result.sni_source, SniSource::kNone);
    const ProbeResult& r = given->second->result;
    EXPECT_EQ(r.sni_source, SniSource::kSni);
    EXPECT_EQ(r.name, "other.test");
    EXPECT_EQ(r.outcome, Outcome::kTls);
    EXPECT_FALSE(r.differs_from_default);
  }
  EXPECT_EQ((*sweep)->summary().sni_probes, 4u);
  EXPECT_EQ((*sweep)->summary().sni_virtual_hosts, 0u);
  EXPECT_EQ((*sweep)->summary().results, 6u);
  EXPECT_EQ((*sweep)->resume_point(), "");
  // Bounded by --sni-max: farm.test comes first, other.test is not tried.
  o.sni_max = 1;
  auto capped = Sweep::Create(o);
  ASSERT_TRUE(capped.ok());
  size_t n = 0;
  ASSERT_TRUE((*capped)->Run([&](const ScanRecord&) { ++n; }).ok());
  EXPECT_EQ(n, 4u);
  EXPECT_EQ((*capped)->summary().sni_probes, 2u);
  o.sni_max = 0;
  EXPECT_FALSE(Sweep::Create(o).ok());
}

TEST(SweepTest, EachDistinctCertificateIsParsedOnce) {
  // Two leaves from one intermediate, each served on two ports: two
  // distinct chains, three distinct certificates.
  testpki::Chain chain = testpki::MakeChain("a.test", testpki::KeyType::kEcP256);
  bssl::UniquePtr<EVP_PKEY> key_b = testpki::MakeKey(testpki::KeyType::kEcP256);
  testpki::CertSpec spec;
  spec.common_name = "b.test";
  spec.dns_names = {"b.test"};
  spec.serial = 99;
  bssl::UniquePtr<X509> leaf_b = testpki::MakeCert(spec, key_b.get(), chain.intermediate.get(),
                                                   chain.intermediate_key.get());
  std::vector<std::unique_ptr<TestServer>> servers;
  std::string ports;
  for (int i = 0; i < 4; ++i) {
    ServerOptions o;
    o.chain = {i < 2 ? chain.leaf.get() : leaf_b.get(), chain.intermediate.get()};
    o.key = i < 2 ? chain.leaf_key.get() : key_b.get();
    std::string error;
    servers.push_back(TestServer::Start(o, &error));
    ASSERT_NE(servers.back(), nullptr) << error;
    absl::StrAppend(&ports, ports.empty() ? "" : ",", servers.back()->port());
  }
  SweepOptions o;
  o.targets = "127.0.0.1";
  o.ports = ports;
  o.system_roots = false;
  o.sni_discovery = false;
  for (bool analyse : {true, false}) {
    SCOPED_TRACE(analyse);
    o.analyse = analyse;
    auto sweep = Sweep::Create(o);
    ASSERT_TRUE(sweep.ok()) << sweep.status();
    size_t tls = 0;
    ASSERT_TRUE((*sweep)->Run([&](const ScanRecord& r) {
      if (r.result.outcome != Outcome::kTls) return;
      ++tls;
      ASSERT_NE(r.chain, nullptr);
      EXPECT_EQ(r.chain->certificates[1].subject_cn, r.chain->certificates[0].issuer_cn);
    }).ok());
    EXPECT_EQ(tls, 4u);
    EXPECT_EQ((*sweep)->summary().chains_analysed, 2u);
    EXPECT_EQ((*sweep)->summary().certificates_parsed, 3u);
  }
}

TEST(SweepTest, WorkerProcessesDeliverTheSameRecords) {
  Farm farm;
  SweepOptions o = farm.Options();
  o.targets = "127.0.0.1-127.0.0.4";
  o.workers = 3;
  auto sweep = Sweep::Create(o);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  std::multiset<std::string> seen;
  size_t tls = 0;
  ASSERT_TRUE((*sweep)->Run([&](const ScanRecord& r) {
    seen.insert(absl::StrCat(r.result.address.ToString(), ":", r.result.port));
    if (r.result.outcome == Outcome::kTls) {
      ++tls;
      EXPECT_NE(r.chain, nullptr);
      EXPECT_LT(r.worker, 3u);
    }
  }).ok());
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 16u);
  EXPECT_EQ(tls, 2u);  // the servers listen on 127.0.0.1 only
  EXPECT_EQ((*sweep)->summary().workers, 3u);
  EXPECT_EQ((*sweep)->summary().results, 16u);
}

// FailingSink refuses the n-th record, as a full disk would.
class FailingSink : public Sink {
 public:
  explicit FailingSink(int fail_at) : fail_at_(fail_at) {}
  absl::Status Record(const ScanRecord& r) override {
    if (++n_ == fail_at_) return absl::DataLossError("disk full");
    recorded.insert(absl::StrCat(r.result.address.ToString(), ":", r.result.port));
    return absl::OkStatus();
  }
  absl::Status Checkpoint(const std::string& point) override {
    last_point = point;
    return absl::OkStatus();
  }
  std::set<std::string> recorded;
  std::string last_point;

 private:
  int fail_at_;
  int n_ = 0;
};

TEST(SweepTest, AFailingSinkStopsTheSweepAndTheResumePointLosesNothing) {
  Farm farm;
  SweepOptions o = farm.Options();
  o.targets = "127.0.0.0/28";
  o.ports = absl::StrCat(farm.refused);
  auto sweep = Sweep::Create(o);
  ASSERT_TRUE(sweep.ok());
  FailingSink sink(5);
  absl::Status s = (*sweep)->Run(std::vector<Sink*>{&sink});
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_TRUE((*sweep)->summary().interrupted);
  ASSERT_FALSE((*sweep)->resume_point().empty());
  // Resume: the second sweep covers everything the first did not record.
  o.resume_point = (*sweep)->resume_point();
  auto resumed = Sweep::Create(o);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  std::set<std::string> all = sink.recorded;
  ASSERT_TRUE((*resumed)->Run([&](const ScanRecord& r) {
    all.insert(absl::StrCat(r.result.address.ToString(), ":", r.result.port));
  }).ok());
  EXPECT_EQ(all.size(), 16u);
}

TEST(SweepTest, StopFromAnotherThreadEndsEarlyWithAResumePoint) {
  Farm farm;
  SweepOptions o = farm.Options();
  o.targets = "127.0.0.0/22";
  o.ports = absl::StrCat(farm.silent->port());
  o.concurrency = 8;
  o.connect_timeout = absl::Milliseconds(200);
  auto sweep = Sweep::Create(o);
  ASSERT_TRUE(sweep.ok());
  Sweep* raw = sweep->get();
  size_t n = 0;
  ASSERT_TRUE(raw->Run([&](const ScanRecord&) {
    if (++n == 20) std::thread([raw] { raw->Stop(); }).detach();
  }).ok());
  EXPECT_TRUE(raw->summary().interrupted);
  EXPECT_LT(n, 1024u);
  EXPECT_GT(raw->summary().remaining, 0u);
  EXPECT_THAT(raw->resume_point(), ::testing::StartsWith("ers-walk/1"));
}

TEST(SweepTest, BadOptionsAreClearErrors) {
  SweepOptions o;
  o.targets = "10.0.0.1/24";
  auto s = Sweep::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_THAT(std::string(s.status().message()), ::testing::HasSubstr("10.0.0.0/24"));
  o.targets = "127.0.0.1";
  o.ports = "0-5";
  EXPECT_TRUE(absl::IsInvalidArgument(Sweep::Create(o).status()));
  o.ports = "443";
  o.resume_point = "ers-walk/1 seed=1 shard=1/1 space=0 next=0";
  EXPECT_FALSE(Sweep::Create(o).ok());
  o.resume_point = "";
  o.analyse = true;
  o.root_files = {"/nonexistent/roots.pem"};
  EXPECT_TRUE(absl::IsNotFound(Sweep::Create(o).status()));
}

TEST(RecordJsonTest, LinesRoundTripThroughTheImportDecoder) {
  Farm farm;
  SweepOptions o = farm.Options();
  o.sni_discovery = true;  // two records carry sni_source
  o.sni = {"other.test"};
  auto sweep = Sweep::Create(o);
  ASSERT_TRUE(sweep.ok());
  std::vector<std::string> lines;
  std::vector<ProbeResult> results;
  ASSERT_TRUE((*sweep)->Run([&](const ScanRecord& r) {
    lines.push_back(RecordToJson(r));
    results.push_back(r.result);
  }).ok());
  ASSERT_EQ(lines.size(), 6u);
  int discovered = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    absl::StatusOr<ScanRecord> back = RecordFromJson(line);
    ASSERT_TRUE(back.ok()) << back.status() << line;
    EXPECT_EQ(back->result.sni_source, results[i].sni_source) << line;
    EXPECT_EQ(back->result.differs_from_default, results[i].differs_from_default) << line;
    if (results[i].sni_source != SniSource::kNone) ++discovered;
    if (back->result.outcome == Outcome::kTls) {
      ASSERT_NE(back->chain, nullptr);
      EXPECT_TRUE(back->chain->trusted);
      EXPECT_EQ(back->chain->certificates[0].subject_cn, "farm.test");
    }
  }
  EXPECT_EQ(discovered, 2);
  EXPECT_FALSE(RecordFromJson("{\"ip\":\"1.2.3.4\",\"port\":99999}").ok());
  EXPECT_FALSE(RecordFromJson("not json").ok());
}

}  // namespace
}  // namespace ers

namespace ers {
namespace {

std::string ReadAll(const std::string& path) {
  std::string out;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  fclose(f);
  return out;
}

TEST(JsonLinesSinkTest, TruncatePartialLineKeepsWholeLinesOnly) {
  const std::string path = ::testing::TempDir() + "/partial.jsonl";
  std::string lines;
  for (int i = 0; i < 500; ++i) lines += absl::StrCat("{\"line\":", i, "}\n");
  ASSERT_TRUE(testpki::WriteFile(path, lines + "{\"cut"));
  ASSERT_TRUE(TruncatePartialLine(path).ok());
  EXPECT_EQ(ReadAll(path), lines);
  ASSERT_TRUE(TruncatePartialLine(path).ok());  // whole lines: unchanged
  EXPECT_EQ(ReadAll(path), lines);
  ASSERT_TRUE(testpki::WriteFile(path, "no newline at all"));
  ASSERT_TRUE(TruncatePartialLine(path).ok());
  EXPECT_EQ(ReadAll(path), "");
  EXPECT_TRUE(TruncatePartialLine(path + ".missing").ok());
}

}  // namespace
}  // namespace ers

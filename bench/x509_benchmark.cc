// x509_benchmark: the cost of analysing one served chain: parse + normalize
// + validate + findings, for a typical three-certificate chain (leaf,
// intermediate, root in the store), with ECDSA and with RSA-2048.
#include <ctime>

#include "benchmark/benchmark.h"
#include "tests/test_pki.h"
#include "x509/findings.h"

namespace ers {
namespace {

struct Fixture {
  testpki::Chain chain;
  TrustStore store;
  std::vector<std::string> served;
  explicit Fixture(testpki::KeyType key) : chain(testpki::MakeChain("bench.test", key)) {
    (void)store.AddRootsPem(testpki::CertPem(chain.root.get()), "root", true);
    served = {testpki::Der(chain.leaf.get()), testpki::Der(chain.intermediate.get())};
  }
};

void BM_ParseCertificate(benchmark::State& state) {
  static Fixture f(testpki::KeyType::kEcP256);
  for (auto _ : state) benchmark::DoNotOptimize(ParseCertificate(f.served[0]));
}
BENCHMARK(BM_ParseCertificate)->Unit(benchmark::kMicrosecond);

void BM_NormalizeChain(benchmark::State& state) {
  static Fixture f(testpki::KeyType::kEcP256);
  for (auto _ : state) benchmark::DoNotOptimize(NormalizeChain(f.served));
}
BENCHMARK(BM_NormalizeChain)->Unit(benchmark::kMicrosecond);

void AnalyzeBenchmark(benchmark::State& state, Fixture& f) {
  EndpointFacts facts;
  facts.host = "bench.test";
  facts.tls_version = 0x0304;
  Policy policy;
  const int64_t now = time(nullptr);
  for (auto _ : state) {
    ChainReport r = AnalyzeChain(f.served, facts, f.store, policy, now);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AnalyzeChain_Ecdsa(benchmark::State& state) {
  static Fixture f(testpki::KeyType::kEcP256);
  AnalyzeBenchmark(state, f);
}
BENCHMARK(BM_AnalyzeChain_Ecdsa)->Unit(benchmark::kMicrosecond);

void BM_AnalyzeChain_Rsa2048Leaf(benchmark::State& state) {
  static Fixture f(testpki::KeyType::kRsa2048);
  AnalyzeBenchmark(state, f);
}
BENCHMARK(BM_AnalyzeChain_Rsa2048Leaf)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ers

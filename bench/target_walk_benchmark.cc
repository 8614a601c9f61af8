// target_walk_benchmark.cc: the cost of producing targets. ns per target for
// a /16 x the 9 default ports and for 0.0.0.0/0 x 1 port, and the process's
// peak RSS, which must stay flat however large the space (the targets are
// computed from the permutation, never listed).
#include <sys/resource.h>

#include "benchmark/benchmark.h"
#include "scanner/target_space.h"
#include "scanner/target_walker.h"

namespace ers {
namespace {

double PeakRssMiB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

TargetSpace Space(const char* range, const PortList& ports) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange(range), ports);
  return *std::move(b).Build();
}

void WalkBenchmark(benchmark::State& state, const TargetSpace& space) {
  TargetWalker walker(&space, /*seed=*/1, Shard{1, 1});
  Target t;
  uint64_t checksum = 0;
  for (auto _ : state) {
    if (!walker.Next(&t)) walker = TargetWalker(&space, 1, Shard{1, 1});
    checksum += t.port;
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["targets_in_space"] = static_cast<double>(space.size());
  state.counters["blocks"] = static_cast<double>(space.blocks().size());
  state.counters["peak_rss_MiB"] = PeakRssMiB();
}

void BM_Walk_Slash16_DefaultPorts(benchmark::State& state) {
  static const TargetSpace space = Space("10.0.0.0/16", PortList::Defaults());
  WalkBenchmark(state, space);
}
BENCHMARK(BM_Walk_Slash16_DefaultPorts);

void BM_Walk_WholeIpv4_OnePort(benchmark::State& state) {
  static const TargetSpace space = Space("0.0.0.0/0", *PortList::Parse("443"));
  WalkBenchmark(state, space);
}
BENCHMARK(BM_Walk_WholeIpv4_OnePort);

// The same walk over 100 million targets of 0.0.0.0/0 in one run: peak RSS
// before and after shows that memory does not grow with targets walked.
void BM_Walk_WholeIpv4_100M(benchmark::State& state) {
  static const TargetSpace space = Space("0.0.0.0/0", *PortList::Parse("443"));
  const double rss_before = PeakRssMiB();
  for (auto _ : state) {
    TargetWalker walker(&space, 7, Shard{1, 1});
    Target t;
    uint64_t checksum = 0;
    for (int i = 0; i < 100'000'000; ++i) {
      walker.Next(&t);
      checksum += static_cast<uint64_t>(t.address.value);
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * 100'000'000);
  state.counters["peak_rss_MiB_before"] = rss_before;
  state.counters["peak_rss_MiB_after"] = PeakRssMiB();
}
BENCHMARK(BM_Walk_WholeIpv4_100M)->Iterations(1)->Unit(benchmark::kSecond);

// Building a space from many overlapping entries and exclusions.
void BM_BuildSpace_1000Entries(benchmark::State& state) {
  for (auto _ : state) {
    TargetSpace::Builder b;
    PrefixSet ex;
    for (uint32_t i = 0; i < 1000; ++i) {
      uint32_t base = 0x0a000000 + i * 200;
      b.AddRange({IpAddress::V4(base), IpAddress::V4(base + 300)},
                 PortList::Defaults());
      if (i % 10 == 0) ex.Insert(IpAddress::V4(base + 5), 32);
    }
    b.SetExclusions(std::move(ex));
    benchmark::DoNotOptimize(std::move(b).Build());
  }
}
BENCHMARK(BM_BuildSpace_1000Entries)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ers

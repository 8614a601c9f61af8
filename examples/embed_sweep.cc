// embed_sweep: sweeps a CIDR block on a list of ports through the ers
// library and prints one JSON line per result (docs/embedding.md).
//
//   embed_sweep 127.0.0.0/24 443,8443
#include <csignal>
#include <cstdio>
#include <memory>

#include <ers/sweep.h>

namespace {
ers::Sweep* g_sweep = nullptr;
void OnSignal(int) {
  if (g_sweep != nullptr) g_sweep->Stop();  // async-signal-safe
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CIDR PORTS\n", argv[0]);
    return 2;
  }
  ers::SweepOptions options;
  options.targets = argv[1];
  options.ports = argv[2];
  options.handshake_timeout = absl::Seconds(3);
  absl::StatusOr<std::unique_ptr<ers::Sweep>> sweep = ers::Sweep::Create(options);
  if (!sweep.ok()) {
    fprintf(stderr, "embed_sweep: %s\n", std::string(sweep.status().message()).c_str());
    return 2;
  }
  g_sweep = sweep->get();
  signal(SIGINT, OnSignal);
  absl::Status status = (*sweep)->Run([](const ers::ScanRecord& record) {
    printf("%s\n", ers::RecordToJson(record).c_str());
  });
  if (!status.ok()) {
    fprintf(stderr, "embed_sweep: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  const ers::SweepSummary& s = (*sweep)->summary();
  fprintf(stderr, "embed_sweep: %llu results, %llu TLS, in %.2f s\n",
          static_cast<unsigned long long>(s.results),
          static_cast<unsigned long long>(s.by_outcome[0]), s.elapsed_s);
  return 0;
}

// probe_floor: the CPU floor under `ers scan`, for bench/endpoint_cpu.sh.
// Two modes over the same targets (a CIDR block on a port list):
//
//   probe_floor tcp CIDR PORTS CONCURRENCY
//     a bare libuv sweep: connect, then close at once (refused or not); no
//     TLS. What the kernel and the event loop cost per endpoint.
//   probe_floor probe CIDR PORTS CONCURRENCY
//     ers's probes through the public API with nothing after them: certs
//     mode, no chain analysis, a sink that only counts. What the kernel,
//     libuv, BoringSSL's handshake and the engine cost per endpoint.
//
// Prints the count of TLS endpoints (probe) or of accepted connections
// (tcp) on standard output.
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <ers/sweep.h>
#include <uv.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace {

struct TcpSweep {
  uv_loop_t loop;
  uint32_t base = 0;       // first address, host order
  uint64_t addresses = 0;  // in the block
  std::vector<uint16_t> ports;
  uint64_t next = 0;       // next endpoint index
  uint64_t accepted = 0;
};

struct TcpConn {
  uv_tcp_t tcp;
  uv_connect_t connect;
  TcpSweep* sweep;
};

void StartNext(TcpSweep* s);

void OnClosed(uv_handle_t* h) {
  auto* c = static_cast<TcpConn*>(h->data);
  TcpSweep* s = c->sweep;
  delete c;
  StartNext(s);
}

void OnConnect(uv_connect_t* req, int status) {
  auto* c = static_cast<TcpConn*>(req->data);
  if (status == 0) ++c->sweep->accepted;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), OnClosed);
}

void StartNext(TcpSweep* s) {
  const uint64_t total = s->addresses * s->ports.size();
  if (s->next >= total) return;
  const uint64_t i = s->next++;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(s->base + static_cast<uint32_t>(i / s->ports.size()));
  sa.sin_port = htons(s->ports[i % s->ports.size()]);
  auto* c = new TcpConn;
  c->sweep = s;
  c->tcp.data = c;
  c->connect.data = c;
  uv_tcp_init(&s->loop, &c->tcp);
  if (uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<sockaddr*>(&sa), OnConnect) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), OnClosed);
  }
}

int RunTcp(const std::string& cidr, const std::string& ports, uint32_t concurrency) {
  TcpSweep s;
  std::vector<std::string> parts = absl::StrSplit(cidr, '/');
  in_addr a{};
  int bits = 0;
  if (parts.size() != 2 || inet_pton(AF_INET, parts[0].c_str(), &a) != 1 ||
      !absl::SimpleAtoi(parts[1], &bits) || bits < 8 || bits > 32) {
    fprintf(stderr, "probe_floor: tcp mode takes an IPv4 CIDR block of /8 to /32\n");
    return 2;
  }
  s.base = ntohl(a.s_addr);
  s.addresses = uint64_t{1} << (32 - bits);
  for (absl::string_view p : absl::StrSplit(ports, ',')) {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(p, &port) || port == 0 || port > 65535) {
      fprintf(stderr, "probe_floor: tcp mode takes a list of single ports\n");
      return 2;
    }
    s.ports.push_back(static_cast<uint16_t>(port));
  }
  uv_loop_init(&s.loop);
  for (uint32_t i = 0; i < concurrency; ++i) StartNext(&s);
  uv_run(&s.loop, UV_RUN_DEFAULT);
  uv_loop_close(&s.loop);
  printf("%llu\n", static_cast<unsigned long long>(s.accepted));
  return 0;
}

int RunProbe(const std::string& cidr, const std::string& ports, uint32_t concurrency) {
  ers::SweepOptions options;
  options.targets = cidr;
  options.ports = ports;
  options.concurrency = concurrency;
  options.analyse = false;
  options.system_roots = false;
  options.handshake_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<ers::Sweep>> sweep = ers::Sweep::Create(options);
  if (!sweep.ok()) {
    fprintf(stderr, "probe_floor: %s\n", std::string(sweep.status().message()).c_str());
    return 2;
  }
  uint64_t tls = 0;
  absl::Status status = (*sweep)->Run([&](const ers::ScanRecord& r) {
    if (r.result.outcome == ers::Outcome::kTls) ++tls;
  });
  if (!status.ok()) {
    fprintf(stderr, "probe_floor: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  printf("%llu\n", static_cast<unsigned long long>(tls));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t concurrency = 0;
  if (argc != 5 || !absl::SimpleAtoi(argv[4], &concurrency) || concurrency == 0) {
    fprintf(stderr, "usage: %s tcp|probe CIDR PORTS CONCURRENCY\n", argv[0]);
    return 2;
  }
  if (strcmp(argv[1], "tcp") == 0) return RunTcp(argv[2], argv[3], concurrency);
  if (strcmp(argv[1], "probe") == 0) return RunProbe(argv[2], argv[3], concurrency);
  fprintf(stderr, "probe_floor: mode must be tcp or probe\n");
  return 2;
}

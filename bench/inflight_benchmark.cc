// inflight_benchmark: holds tens of thousands of probes in flight against a
// listener that never answers, and reports the memory each in-flight
// connection costs (RSS growth at the in-flight peak / connections in flight)
// and the connect rate reached.
//
// It runs in a private network namespace it creates (needs root): there the
// listener binds 0.0.0.0 of a namespace that holds nothing but loopback, so
// every address of 127.1.0.0/16 answers on its port, and no packet can leave
// the machine. The listener never accepts; the kernel completes connections
// into its accept queue (up to somaxconn) and leaves the rest in SYN_SENT:
// either way the probe is in flight, waiting.
//
// One process holds at most its open-file limit of sockets. When the hard
// limit is below the level asked for and cannot be raised (no
// CAP_SYS_RESOURCE), the level is split over worker processes, each sweeping
// one shard: the figures are then sums over the workers.
//
// Usage: inflight_benchmark [CONCURRENCY...] (default 10000 50000).
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "scanner/engine.h"
#include "scanner/fd_limit.h"

namespace {

constexpr uint16_t kPort = 4433;

bool BringUpLoopback() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP;
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  close(fd);
  return ok;
}

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// ListenSilently binds 0.0.0.0:kPort in the private namespace and never
// accepts. The socket stays open for the whole run.
int ListenSilently() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(kPort);
  sin.sin_addr.s_addr = htonl(INADDR_ANY);  // inside our private namespace
  if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 ||
      listen(fd, 65535) != 0) {
    perror("listener");
    exit(1);
  }
  return fd;
}

// WorkerReport is what one worker process measured.
struct WorkerReport {
  uint64_t peak_in_flight = 0;
  uint64_t results = 0;
  uint64_t timeouts = 0;
  uint64_t baseline_rss = 0;
  uint64_t rss_at_peak = 0;
  double ramp_s = 0;
  double elapsed_s = 0;
  int ok = 0;
};

WorkerReport RunWorker(uint32_t concurrency, uint32_t shard_index,
                       uint32_t shard_count) {
  using namespace ers;
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("127.1.0.0/16"), *PortList::Parse("4433"));
  TargetSpace space = *std::move(b).Build();
  TargetWalker walker(&space, 1, Shard{shard_index, shard_count});
  ProbeOptions po;
  po.connect_timeout_ms = 8000;
  po.handshake_timeout_ms = 8000;
  po.connect_retries = 0;
  po.fallback = false;
  auto context = ClientContext::Create(po);
  uv_loop_t loop;
  uv_loop_init(&loop);
  WorkerReport report;
  EngineOptions eo;
  eo.concurrency = concurrency;
  Engine* engine_ptr = nullptr;
  auto engine = Engine::Create(&loop, &space, &walker, context->get(), eo,
                               [&](const ProbeResult& r, uint64_t) {
                                 ++report.results;
                                 report.timeouts += r.outcome == Outcome::kTimeout;
                                 // One wave: stop taking new targets.
                                 if (report.results == 1) engine_ptr->Stop();
                               });
  if (!engine.ok()) {
    fprintf(stderr, "%s\n", std::string(engine.status().message()).c_str());
    exit(1);
  }
  engine_ptr = engine->get();
  report.baseline_rss = RssBytes();
  struct Sampler {
    Engine* engine;
    WorkerReport* report;
    uint64_t start_ns;
    uint32_t target;
  } sampler{engine->get(), &report, uv_hrtime(), (*engine)->concurrency()};
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  timer.data = &sampler;
  uv_timer_start(
      &timer,
      [](uv_timer_t* t) {
        auto* s = static_cast<Sampler*>(t->data);
        uint64_t in_flight = s->engine->in_flight();
        // Memory is highest when the most probes are in flight.
        if (in_flight >= s->report->peak_in_flight) {
          s->report->peak_in_flight = in_flight;
          s->report->rss_at_peak = RssBytes();
        }
        if (s->report->ramp_s == 0 && in_flight >= s->target) {
          s->report->ramp_s = (uv_hrtime() - s->start_ns) / 1e9;
        }
      },
      10, 10);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer));
  report.ok = (*engine)->Run().ok();
  report.elapsed_s = (uv_hrtime() - sampler.start_ns) / 1e9;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  engine->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return report;
}

// RunLevel holds |concurrency| probes in flight, over as many worker
// processes as the open-file limit requires, and prints the figures.
void RunLevel(uint32_t concurrency, uint64_t fd_limit) {
  const uint64_t per_process = fd_limit - ers::kReservedFds - 64;
  const uint32_t workers =
      static_cast<uint32_t>((concurrency + per_process - 1) / per_process);
  std::vector<std::pair<pid_t, int>> children;
  for (uint32_t k = 1; k <= workers; ++k) {
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      WorkerReport r = RunWorker(concurrency / workers, k, workers);
      (void)!write(fds[1], &r, sizeof(r));
      _exit(0);
    }
    close(fds[1]);
    children.push_back({pid, fds[0]});
  }
  WorkerReport total;
  total.ok = 1;
  for (auto& [pid, fd] : children) {
    WorkerReport r;
    if (read(fd, &r, sizeof(r)) != sizeof(r)) r.ok = 0;
    close(fd);
    waitpid(pid, nullptr, 0);
    total.peak_in_flight += r.peak_in_flight;
    total.results += r.results;
    total.timeouts += r.timeouts;
    total.baseline_rss += r.baseline_rss;
    total.rss_at_peak += r.rss_at_peak;
    total.ramp_s = std::max(total.ramp_s, r.ramp_s);
    total.elapsed_s = std::max(total.elapsed_s, r.elapsed_s);
    total.ok &= r.ok;
  }
  const double growth = static_cast<double>(total.rss_at_peak - total.baseline_rss);
  printf("concurrency %u (%u worker process%s): peak in flight %llu; "
         "%llu results (%llu timeouts) in %.1f s; %s\n",
         concurrency, workers, workers == 1 ? "" : "es",
         static_cast<unsigned long long>(total.peak_in_flight),
         static_cast<unsigned long long>(total.results),
         static_cast<unsigned long long>(total.timeouts), total.elapsed_s,
         total.ok ? "completed" : "FAILED");
  printf("  ramp to full: %.2f s (%.0f connections/s)\n", total.ramp_s,
         total.ramp_s > 0 ? total.peak_in_flight / total.ramp_s : 0.0);
  printf("  RSS: baseline %.1f MiB, at the in-flight peak %.1f MiB: "
         "%.2f KiB per in-flight connection\n",
         total.baseline_rss / 1048576.0, total.rss_at_peak / 1048576.0,
         total.peak_in_flight ? growth / 1024.0 / total.peak_in_flight : 0.0);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> levels;
  for (int i = 1; i < argc; ++i) levels.push_back(static_cast<uint32_t>(atoi(argv[i])));
  if (levels.empty()) levels = {10000, 50000};
  if (unshare(CLONE_NEWNET) != 0) {
    fprintf(stderr,
            "inflight_benchmark: needs root to create a private network "
            "namespace (%s); skipped\n",
            strerror(errno));
    return 0;
  }
  if (!BringUpLoopback()) {
    fprintf(stderr, "inflight_benchmark: cannot bring up lo\n");
    return 1;
  }
  std::ofstream("/proc/sys/net/core/somaxconn") << 65535;
  absl::StatusOr<uint64_t> limit = ers::RaiseFileLimit(1 << 20);
  const uint64_t fd_limit = limit.ok() ? *limit : ers::CurrentFileLimit();
  printf("open-file limit per process: %llu\n",
         static_cast<unsigned long long>(fd_limit));
  signal(SIGPIPE, SIG_IGN);
  int listener = ListenSilently();
  for (uint32_t level : levels) RunLevel(level, fd_limit);
  close(listener);
  return 0;
}

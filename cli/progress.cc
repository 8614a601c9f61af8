#include "cli/progress.h"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"

namespace ers {
namespace {

constexpr int kRedrawMs = 1000;

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
}

std::string Duration(double seconds) {
  if (seconds < 60) return absl::StrFormat("%ds", static_cast<int>(seconds));
  if (seconds < 3600) {
    return absl::StrFormat("%dm%02ds", static_cast<int>(seconds) / 60,
                           static_cast<int>(seconds) % 60);
  }
  return absl::StrFormat("%dh%02dm", static_cast<int>(seconds) / 3600,
                         static_cast<int>(seconds) % 3600 / 60);
}

}  // namespace

Progress::Progress(FILE* out, const Sweep* sweep, bool live)
    : out_(out), out_fd_(fileno(out)), sweep_(sweep), live_(live) {}

void Progress::Start() {
  start_ns_ = NowNs();
  // Without a terminal there is nothing to redraw, and no thread: a sweep
  // with worker processes forks, and the fewer threads a forking process
  // has, the fewer locks a child can inherit held.
  if (!live_) return;
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  Draw();
  threaded_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void Progress::StopRequested() {
  stop_requested_.store(true);
  if (!threaded_) {
    // No live line: say it at once, from the signal handler (write(2) is
    // async-signal-safe; the count needs the thread).
    static const char kStopping[] =
        "ers: stopping: waiting for the probes in flight to finish (Ctrl-C again to stop "
        "now; the resume point is kept either way)\n";
    if (!announced_stop_.exchange(true)) {
      ssize_t ignored = write(out_fd_, kStopping, sizeof(kStopping) - 1);
      (void)ignored;
    }
    return;
  }
  if (wake_[1] >= 0) {
    const char c = 's';
    ssize_t ignored = write(wake_[1], &c, 1);
    (void)ignored;
  }
}

void Progress::Finish() {
  if (thread_.joinable()) {
    finishing_.store(true);
    if (wake_[1] >= 0) {
      const char c = 'f';
      ssize_t ignored = write(wake_[1], &c, 1);
      (void)ignored;
    }
    thread_.join();
  }
  for (int& fd : wake_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  if (drawn_) {
    fprintf(out_, "\r\033[K");
    fflush(out_);
    drawn_ = false;
  }
}

void Progress::Loop() {
  while (!finishing_.load()) {
    pollfd p{wake_[0], POLLIN, 0};
    if (wake_[0] >= 0) {
      if (poll(&p, 1, kRedrawMs) > 0) {
        char buf[16];
        while (read(wake_[0], buf, sizeof(buf)) > 0) {
        }
      }
    } else {
      poll(nullptr, 0, kRedrawMs);
    }
    if (finishing_.load()) break;
    if (stop_requested_.load() && !announced_) {
      announced_ = true;
      const SweepProgress p = sweep_->progress();
      if (drawn_) fprintf(out_, "\r\033[K");
      fprintf(out_,
              "ers: stopping: waiting for %llu probe%s in flight to finish (Ctrl-C again to "
              "stop now; the resume point is kept either way)\n",
              static_cast<unsigned long long>(p.in_flight), p.in_flight == 1 ? "" : "s");
      fflush(out_);
      drawn_ = false;
    }
    if (live_) Draw();
  }
}

void Progress::Draw() {
  const SweepProgress p = sweep_->progress();
  const double elapsed = (NowNs() - start_ns_) / 1e9;
  const double rate = elapsed > 0 ? p.results / elapsed : 0;
  const uint64_t shown = std::min(p.results, p.targets);
  const std::string eta =
      stop_requested_.load() ? "stopping"
      : rate > 0 && p.targets > shown ? Duration((p.targets - shown) / rate)
                                      : "-";
  fprintf(out_, "\r\033[K%llu/%llu targets  in flight %llu  %.0f/s  tls %llu  ETA %s",
          static_cast<unsigned long long>(shown), static_cast<unsigned long long>(p.targets),
          static_cast<unsigned long long>(p.in_flight), rate,
          static_cast<unsigned long long>(p.tls), eta.c_str());
  fflush(out_);
  drawn_ = true;
}

}  // namespace ers

#include "cli/progress.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"

namespace ers {
namespace {

constexpr uint64_t kRedrawNs = 250'000'000;

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

Progress::Progress(FILE* out, uint64_t total)
    : out_(out),
      enabled_(isatty(fileno(out)) != 0),
      total_(total),
      start_ns_(NowNs()) {}

void Progress::Result(bool tls) {
  ++done_;
  if (tls) ++tls_;
  if (!enabled_) return;
  uint64_t now = NowNs();
  if (now - last_draw_ns_ >= kRedrawNs) Draw(now);
}

void Progress::Draw(uint64_t now_ns) {
  last_draw_ns_ = now_ns;
  const double elapsed = (now_ns - start_ns_) / 1e9;
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  const uint64_t shown = std::min(done_, total_);
  std::string eta = rate > 0 && total_ > shown
                        ? Duration((total_ - shown) / rate)
                        : "-";
  fprintf(out_, "\r\033[K%llu/%llu targets  %.0f/s  tls %llu  ETA %s",
          static_cast<unsigned long long>(shown),
          static_cast<unsigned long long>(total_), rate,
          static_cast<unsigned long long>(tls_), eta.c_str());
  fflush(out_);
  drawn_ = true;
}

void Progress::Clear() {
  if (drawn_) {
    fprintf(out_, "\r\033[K");
    fflush(out_);
    drawn_ = false;
  }
}

}  // namespace ers

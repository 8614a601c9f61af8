// token_bucket.h: the rate limit on connection attempts. Tokens accrue at
// |rate| per second up to a burst of |burst|; each attempt takes one. Time is
// passed in, so the bucket is exact under test and free of clocks.
#ifndef ERS_SCANNER_TOKEN_BUCKET_H_
#define ERS_SCANNER_TOKEN_BUCKET_H_

#include <algorithm>
#include <cstdint>

namespace ers {

class TokenBucket {
 public:
  // TokenBucket allows |rate| events per second (0 or less: unlimited) with
  // bursts of at most |burst| events (at least 1). It starts full.
  TokenBucket(double rate, double burst)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  bool unlimited() const { return rate_ <= 0; }

  // TryTake takes one token at time |now_ns| and returns true, or returns
  // false when none is available.
  bool TryTake(uint64_t now_ns) {
    if (unlimited()) return true;
    Refill(now_ns);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // NanosUntilNext returns how long after |now_ns| the next token is due
  // (0 when one is available now).
  uint64_t NanosUntilNext(uint64_t now_ns) {
    if (unlimited()) return 0;
    Refill(now_ns);
    if (tokens_ >= 1.0) return 0;
    return static_cast<uint64_t>((1.0 - tokens_) / rate_ * 1e9) + 1;
  }

 private:
  void Refill(uint64_t now_ns) {
    if (last_ns_ != 0 && now_ns > last_ns_) {
      tokens_ = std::min(burst_, tokens_ + (now_ns - last_ns_) * rate_ / 1e9);
    }
    if (now_ns > last_ns_) last_ns_ = now_ns;
  }

  double rate_;
  double burst_;
  double tokens_;
  uint64_t last_ns_ = 0;
};

}  // namespace ers

#endif  // ERS_SCANNER_TOKEN_BUCKET_H_

// target_walker.h: walks one shard of a TargetSpace in seeded pseudo-random
// order, with a position that can be saved and restored so an interrupted
// scan resumes without losing or repeating a target.
//
// Shard k of N (numbered 1..N) takes the permutation's indices i with
// i mod N == k-1. Shards built with one seed over one space are therefore
// disjoint, and together they give every target exactly once.
#ifndef ERS_SCANNER_TARGET_WALKER_H_
#define ERS_SCANNER_TARGET_WALKER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scanner/permutation.h"
#include "scanner/target_space.h"

namespace ers {

// Shard selects one part of a scan split over machines or processes.
struct Shard {
  uint32_t index = 1;  // 1..count
  uint32_t count = 1;
};

// ParseShard parses "k/N" with 1 <= k <= N <= 65536.
[[nodiscard]] absl::StatusOr<Shard> ParseShard(absl::string_view text);

class TargetWalker {
 public:
  // TargetWalker walks |shard| of |*space|, which must outlive it, in the
  // order selected by |seed|.
  TargetWalker(const TargetSpace* space, uint64_t seed, Shard shard);

  // shard_size returns the number of targets in this shard.
  uint64_t shard_size() const { return shard_size_; }
  // position returns how many targets this walker has produced (or skipped
  // past by a restore).
  uint64_t position() const { return position_; }
  bool done() const { return position_ >= shard_size_; }

  // Next stores the next target in |*out| and returns true, or returns false
  // when the shard is exhausted. |*out_index|, if not null, receives the
  // target's position in the walk (for resume bookkeeping).
  bool Next(Target* out, uint64_t* out_index = nullptr);

  // TargetAt returns the target at walk |position| < shard_size().
  Target TargetAt(uint64_t position) const;

  // SavePosition encodes a resume point: the walk continues at |position|
  // (pass position() after results are durable, or the lowest position not
  // yet completed). The text names seed, shard and space fingerprint.
  std::string SavePosition(uint64_t position) const;
  std::string SavePosition() const { return SavePosition(position_); }

  // RestorePosition continues the walk from a saved point. It fails with
  // kInvalidArgument on malformed text, and with kFailedPrecondition when the
  // point belongs to another seed, shard or target space.
  [[nodiscard]] absl::Status RestorePosition(absl::string_view saved);

  uint64_t seed() const { return seed_; }
  const Shard& shard() const { return shard_; }

 private:
  const TargetSpace* space_;
  uint64_t seed_;
  Shard shard_;
  Permutation permutation_;
  uint64_t shard_size_;
  uint64_t position_ = 0;
};

}  // namespace ers

#endif  // ERS_SCANNER_TARGET_WALKER_H_

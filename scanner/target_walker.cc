#include "scanner/target_walker.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ers {
namespace {

constexpr uint32_t kMaxShards = 65536;
constexpr absl::string_view kPositionTag = "ers-walk/1";

}  // namespace

absl::StatusOr<Shard> ParseShard(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  Shard shard;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &shard.index) ||
      !absl::SimpleAtoi(parts[1], &shard.count)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard \"", text, "\" is not of the form k/N (e.g. 2/4)"));
  }
  if (shard.count < 1 || shard.count > kMaxShards) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard \"", text, "\": the shard count must be 1 to ", kMaxShards));
  }
  if (shard.index < 1 || shard.index > shard.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard \"", text, "\": shards are numbered 1 to ",
                     shard.count));
  }
  return shard;
}

TargetWalker::TargetWalker(const TargetSpace* space, uint64_t seed,
                           Shard shard)
    : space_(space),
      seed_(seed),
      shard_(shard),
      permutation_(space->size(), seed) {
  const uint64_t n = space->size();
  const uint64_t k = shard.index - 1;
  shard_size_ = k < n ? (n - k + shard.count - 1) / shard.count : 0;
}

Target TargetWalker::TargetAt(uint64_t position) const {
  const uint64_t i = (shard_.index - 1) + position * shard_.count;
  return space_->At(permutation_.Apply(i));
}

bool TargetWalker::Next(Target* out, uint64_t* out_index) {
  if (done()) return false;
  if (out_index != nullptr) *out_index = position_;
  *out = TargetAt(position_++);
  return true;
}

std::string TargetWalker::SavePosition(uint64_t position) const {
  return absl::StrCat(kPositionTag, " seed=", seed_, " shard=", shard_.index,
                      "/", shard_.count, " space=",
                      absl::Hex(space_->Fingerprint(), absl::kZeroPad16),
                      " next=", position);
}

absl::Status TargetWalker::RestorePosition(absl::string_view saved) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(saved, ' ', absl::SkipEmpty());
  if (fields.size() != 5 || fields[0] != kPositionTag) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resume point \"", saved, "\" is not an ", kPositionTag, " record"));
  }
  auto value = [&](size_t i, absl::string_view key) -> absl::string_view {
    absl::string_view f = fields[i];
    if (!absl::ConsumePrefix(&f, key) || !absl::ConsumePrefix(&f, "=")) {
      return absl::string_view();
    }
    return f;
  };
  uint64_t seed = 0;
  uint64_t fingerprint = 0;
  uint64_t next = 0;
  absl::StatusOr<Shard> shard = ParseShard(value(2, "shard"));
  if (!absl::SimpleAtoi(value(1, "seed"), &seed) || !shard.ok() ||
      !absl::SimpleHexAtoi(value(3, "space"), &fingerprint) ||
      !absl::SimpleAtoi(value(4, "next"), &next)) {
    return absl::InvalidArgumentError(
        absl::StrCat("resume point \"", saved, "\" is malformed"));
  }
  if (seed != seed_ || shard->index != shard_.index ||
      shard->count != shard_.count) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resume point is for seed ", seed, " shard ", shard->index, "/",
        shard->count, ", but this scan uses seed ", seed_, " shard ",
        shard_.index, "/", shard_.count));
  }
  if (fingerprint != space_->Fingerprint()) {
    return absl::FailedPreconditionError(
        "resume point belongs to a different set of targets (the "
        "configuration changed since it was saved)");
  }
  if (next > shard_size_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resume point next=", next, " is past the shard's ", shard_size_,
        " targets"));
  }
  position_ = next;
  return absl::OkStatus();
}

}  // namespace ers

#include "scanner/permutation.h"

namespace ers {
namespace {

// SplitMix64: turns the seed into round keys.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Round is the Feistel round function: a 64-bit finalizer (MurmurHash3's
// fmix64) of the half-block keyed by the round key.
inline uint64_t Round(uint64_t half, uint64_t key) {
  uint64_t z = half ^ key;
  z ^= z >> 33;
  z *= 0xff51afd7ed558ccdULL;
  z ^= z >> 33;
  z *= 0xc4ceb9fe1a85ec53ULL;
  z ^= z >> 33;
  return z;
}

inline uint64_t Mask(int bits) {
  return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

}  // namespace

Permutation::Permutation(uint64_t n, uint64_t seed) : n_(n), bits_(0) {
  while (bits_ < 64 && (uint64_t{1} << bits_) < n) ++bits_;
  uint64_t state = seed;
  for (uint64_t& key : keys_) key = SplitMix64(&state);
}

uint64_t Permutation::Feistel(uint64_t x) const {
  if (bits_ == 0) return x;
  // The block is (high, low) with widths (hi_bits, lo_bits). Each round maps
  // (high, low) to (low, high ^ F(low)), swapping the widths: a bijection of
  // [0, 2^bits_) whatever the split, so odd widths need no padding.
  int hi_bits = (bits_ + 1) / 2;
  int lo_bits = bits_ - hi_bits;
  uint64_t high = x >> lo_bits;
  uint64_t low = x & Mask(lo_bits);
  for (uint64_t key : keys_) {
    uint64_t new_low = (high ^ Round(low, key)) & Mask(hi_bits);
    high = low;
    low = new_low;
    int t = hi_bits;
    hi_bits = lo_bits;
    lo_bits = t;
  }
  return (high << lo_bits) | low;
}

}  // namespace ers

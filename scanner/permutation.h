// permutation.h: a seeded pseudo-random permutation of [0, n) computed one
// index at a time in O(1) memory: a Feistel network over the smallest power of
// two >= n, with cycle walking to stay inside [0, n) (a format-preserving
// permutation). Scans walk it so load spreads over networks and no target
// list is ever built.
#ifndef ERS_SCANNER_PERMUTATION_H_
#define ERS_SCANNER_PERMUTATION_H_

#include <array>
#include <cstdint>

namespace ers {

class Permutation {
 public:
  // Permutation builds the permutation of [0, |n|) selected by |seed|. Equal
  // (n, seed) pairs give equal permutations on every machine.
  Permutation(uint64_t n, uint64_t seed);

  uint64_t size() const { return n_; }

  // Apply returns the image of |i| < size(). The expected cost is under two
  // Feistel evaluations, since the Feistel domain is less than 2n.
  uint64_t Apply(uint64_t i) const {
    uint64_t x = i;
    do {
      x = Feistel(x);
    } while (x >= n_);
    return x;
  }

 private:
  static constexpr int kRounds = 6;

  uint64_t Feistel(uint64_t x) const;

  uint64_t n_;
  int bits_;  // Feistel domain is [0, 2^bits_)
  std::array<uint64_t, kRounds> keys_;
};

}  // namespace ers

#endif  // ERS_SCANNER_PERMUTATION_H_

#include "scanner/permutation.h"

#include <vector>

#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(PermutationTest, IsABijectionForManySizes) {
  for (uint64_t n : {0, 1, 2, 3, 5, 64, 100, 1000, 4097, 65536, 100003}) {
    SCOPED_TRACE(n);
    Permutation p(n, 42);
    std::vector<bool> seen(n, false);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t x = p.Apply(i);
      ASSERT_LT(x, n);
      ASSERT_FALSE(seen[x]) << "duplicate image " << x;
      seen[x] = true;
    }
  }
}

TEST(PermutationTest, SeedChangesOrderAndIsDeterministic) {
  Permutation a(1000, 1), b(1000, 1), c(1000, 2);
  int same_as_c = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.Apply(i), b.Apply(i));
    same_as_c += a.Apply(i) == c.Apply(i);
  }
  EXPECT_LT(same_as_c, 20);
}

TEST(PermutationTest, SpreadsConsecutiveIndices) {
  // The first 256 of 2^24 indices should not land in one small region.
  Permutation p(uint64_t{1} << 24, 9);
  int low_quarter = 0;
  for (uint64_t i = 0; i < 256; ++i) low_quarter += p.Apply(i) < (1u << 22);
  EXPECT_GT(low_quarter, 32);
  EXPECT_LT(low_quarter, 96);
}

TEST(PermutationTest, LargeDomains) {
  Permutation p(uint64_t{1} << 48, 3);
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_LT(p.Apply(i), uint64_t{1} << 48);
}

}  // namespace
}  // namespace ers

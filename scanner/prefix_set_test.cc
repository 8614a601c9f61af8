#include "scanner/prefix_set.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

IpAddress A(const char* text) { return *ParseIpAddress(text); }

TEST(PrefixSetTest, ContainsPrefixesAndRanges) {
  PrefixSet set;
  set.Insert(A("10.0.0.0"), 8);
  set.InsertRange(*ParseIpRange("192.0.2.10-192.0.2.20"));
  set.Insert(A("2001:db8::"), 32);
  EXPECT_TRUE(set.Contains(A("10.255.1.2")));
  EXPECT_FALSE(set.Contains(A("11.0.0.0")));
  EXPECT_FALSE(set.Contains(A("192.0.2.9")));
  EXPECT_TRUE(set.Contains(A("192.0.2.10")));
  EXPECT_TRUE(set.Contains(A("192.0.2.20")));
  EXPECT_FALSE(set.Contains(A("192.0.2.21")));
  EXPECT_TRUE(set.Contains(A("2001:db8:ffff::1")));
  EXPECT_FALSE(set.Contains(A("2001:db9::1")));
  // IPv4 and IPv6 trees are separate: ::a00:1 is not 10.0.0.1.
  EXPECT_FALSE(set.Contains(A("::a00:1")));
}

TEST(PrefixSetTest, CoveringPrefixReplacesCoveredOnes) {
  PrefixSet set;
  set.Insert(A("10.1.0.0"), 16);
  set.Insert(A("10.2.3.4"), 32);
  EXPECT_EQ(set.num_prefixes(), 2u);
  set.Insert(A("10.0.0.0"), 8);
  EXPECT_EQ(set.num_prefixes(), 1u);
  set.Insert(A("10.9.0.0"), 16);  // already covered
  EXPECT_EQ(set.num_prefixes(), 1u);
}

TEST(PrefixSetTest, WholeSpace) {
  PrefixSet set;
  set.Insert(A("0.0.0.0"), 0);
  EXPECT_TRUE(set.Contains(A("1.2.3.4")));
  std::vector<IpRange> r = set.Ranges(IpFamily::kV4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].ToString(), "0.0.0.0/0");
  EXPECT_TRUE(set.Ranges(IpFamily::kV6).empty());
}

TEST(PrefixSetTest, RangesMergeAdjacentPrefixes) {
  PrefixSet set;
  set.InsertRange(*ParseIpRange("10.0.0.3-10.0.0.9"));
  set.Insert(A("10.0.0.10"), 32);
  set.Insert(A("10.0.0.200"), 32);
  std::vector<IpRange> r = set.Ranges(IpFamily::kV4);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].ToString(), "10.0.0.3-10.0.0.10");
  EXPECT_EQ(r[1].ToString(), "10.0.0.200");
}

// Property: membership agrees with a brute-force check over random ranges.
TEST(PrefixSetTest, AgreesWithBruteForce) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    SCOPED_TRACE(trial);
    PrefixSet set;
    std::vector<IpRange> inserted;
    for (int i = 0; i < 10; ++i) {
      uint32_t a = rng() % 4096, b = rng() % 4096;
      if (a > b) std::swap(a, b);
      IpRange r{IpAddress::V4(a), IpAddress::V4(b)};
      inserted.push_back(r);
      set.InsertRange(r);
    }
    for (uint32_t v = 0; v < 4200; ++v) {
      bool expected = false;
      for (const IpRange& r : inserted) expected |= r.Contains(IpAddress::V4(v));
      ASSERT_EQ(set.Contains(IpAddress::V4(v)), expected) << v;
    }
  }
}

TEST(ExclusionListTest, ParsesCommentsAndBlankLines) {
  absl::StatusOr<PrefixSet> set = ParseExclusionList(
      "# never scan these\n"
      "10.0.0.0/8   # internal\n"
      "\n"
      "  192.0.2.1\n"
      "198.51.100.10-198.51.100.12\r\n"
      "2001:db8::/32\n",
      "exclude.txt");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->Contains(A("10.1.2.3")));
  EXPECT_TRUE(set->Contains(A("192.0.2.1")));
  EXPECT_TRUE(set->Contains(A("198.51.100.11")));
  EXPECT_FALSE(set->Contains(A("198.51.100.13")));
  EXPECT_TRUE(set->Contains(A("2001:db8::5")));
}

TEST(ExclusionListTest, ErrorsGiveFileAndLine) {
  absl::StatusOr<PrefixSet> set =
      ParseExclusionList("10.0.0.0/8\n\n10.0.0.300/32\n", "exclude.txt");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(std::string(set.status().message()),
              HasSubstr("exclude.txt:3: "));
  EXPECT_THAT(std::string(set.status().message()), HasSubstr("greater than 255"));
}

TEST(ExclusionListTest, LoadFile) {
  std::string path = ::testing::TempDir() + "/exclude.txt";
  {
    std::ofstream out(path);
    out << "127.0.0.5\n";
  }
  absl::StatusOr<PrefixSet> set = LoadExclusionFile(path);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->Contains(A("127.0.0.5")));
  absl::StatusOr<PrefixSet> missing = LoadExclusionFile(path + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(".missing"));
}

}  // namespace
}  // namespace ers

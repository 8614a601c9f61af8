#include "scanner/target_walker.h"

#include <random>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scanner/address_policy.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

std::string Key(const Target& t) {
  return (t.has_address ? t.address.ToString() : std::string(t.name)) + ":" +
         std::to_string(t.port);
}

// Mix gives an order-independent hash of a target set (sum of mixed keys).
uint64_t Mix(const std::string& key) {
  uint64_t h = std::hash<std::string>()(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

struct RandomSpec {
  TargetSpace space;
  std::set<std::string> expected;  // brute-force truth
};

// MakeRandomSpec builds a random space of small ranges, names and ports, and
// the brute-force set of targets it must hold.
RandomSpec MakeRandomSpec(std::mt19937_64& rng, bool with_exclusions) {
  TargetSpace::Builder b;
  RandomSpec spec;
  PrefixSet ex;
  std::vector<IpRange> excluded;
  if (with_exclusions) {
    for (int i = 0; i < 3; ++i) {
      uint32_t base = 0x0a000000 + rng() % 600;
      IpRange r{IpAddress::V4(base), IpAddress::V4(base + rng() % 40)};
      ex.InsertRange(r);
      excluded.push_back(r);
    }
  }
  auto is_excluded = [&](const IpAddress& a) {
    for (const IpRange& r : excluded) {
      if (r.Contains(a)) return true;
    }
    return false;
  };
  int num_entries = 1 + rng() % 5;
  for (int e = 0; e < num_entries; ++e) {
    std::vector<PortList::Range> ranges;
    int num_ranges = 1 + rng() % 3;
    for (int r = 0; r < num_ranges; ++r) {
      uint16_t lo = 1 + rng() % 2000;
      ranges.push_back({lo, static_cast<uint16_t>(lo + rng() % 5)});
    }
    PortList ports = PortList::FromRanges(ranges);
    if (rng() % 4 == 0) {
      std::string name = "host" + std::to_string(rng() % 3) + ".example.com";
      b.AddServer(*ParseServer(name), ports);
      for (uint32_t i = 0; i < ports.size(); ++i) {
        spec.expected.insert(name + ":" + std::to_string(ports.At(i)));
      }
      continue;
    }
    bool v6 = rng() % 5 == 0;
    uint32_t first = 0x0a000000 + rng() % 600;
    uint32_t len = rng() % 80;
    IpRange range = v6 ? IpRange{IpAddress::V6(first), IpAddress::V6(first + len)}
                       : IpRange{IpAddress::V4(first), IpAddress::V4(first + len)};
    b.AddRange(range, ports);
    for (absl::uint128 a = range.first.value; a <= range.last.value; ++a) {
      IpAddress addr{range.first.family, a};
      // ::10.0.x.x (IPv4-compatible) reaches 10.0.x.x: excluded with it.
      std::optional<IpAddress> v4 = EmbeddedV4(addr);
      if (is_excluded(addr) || (v4.has_value() && is_excluded(*v4))) continue;
      for (uint32_t i = 0; i < ports.size(); ++i) {
        spec.expected.insert(addr.ToString() + ":" +
                             std::to_string(ports.At(i)));
      }
    }
  }
  b.SetExclusions(std::move(ex));
  spec.space = *std::move(b).Build();
  return spec;
}

// Property: for random specs and 1, 2 and 7 shards, with and without
// exclusions, the shards together produce every target exactly once.
TEST(TargetWalkerTest, ShardsCoverEveryTargetExactlyOnce) {
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 60; ++trial) {
    bool with_exclusions = trial % 2 == 1;
    RandomSpec spec = MakeRandomSpec(rng, with_exclusions);
    ASSERT_EQ(spec.space.size(), spec.expected.size()) << "trial " << trial;
    uint64_t expected_hash = 0;
    for (const std::string& k : spec.expected) expected_hash += Mix(k);
    for (uint32_t shards : {1u, 2u, 7u}) {
      SCOPED_TRACE(testing::Message() << "trial " << trial << " shards "
                                      << shards << " exclusions "
                                      << with_exclusions);
      std::multiset<std::string> seen;
      uint64_t hash = 0;
      uint64_t count = 0;
      for (uint32_t k = 1; k <= shards; ++k) {
        TargetWalker walker(&spec.space, /*seed=*/trial, Shard{k, shards});
        Target t;
        uint64_t produced = 0;
        while (walker.Next(&t)) {
          std::string key = Key(t);
          seen.insert(key);
          hash += Mix(key);
          ++count;
          ++produced;
          if (t.has_address) {
            ASSERT_FALSE(spec.space.IsExcluded(t.address)) << key;
          }
        }
        EXPECT_EQ(produced, walker.shard_size());
      }
      EXPECT_EQ(count, spec.expected.size());
      EXPECT_EQ(hash, expected_hash);
      EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), spec.expected);
      EXPECT_EQ(seen.size(), spec.expected.size());  // no repeats
    }
  }
}

TEST(TargetWalkerTest, ResumeContinuesTheSameSequence) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("10.0.0.0/22"), PortList::Defaults());
  TargetSpace space = *std::move(b).Build();
  TargetWalker full(&space, 77, Shard{2, 3});
  std::vector<std::string> sequence;
  Target t;
  while (full.Next(&t)) sequence.push_back(Key(t));
  ASSERT_EQ(sequence.size(), full.shard_size());

  TargetWalker first(&space, 77, Shard{2, 3});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(first.Next(&t));
  std::string saved = first.SavePosition();
  EXPECT_THAT(saved, HasSubstr("next=1000"));

  TargetWalker resumed(&space, 77, Shard{2, 3});
  ASSERT_TRUE(resumed.RestorePosition(saved).ok());
  std::vector<std::string> rest;
  uint64_t index = 0;
  uint64_t expected_index = 1000;
  while (resumed.Next(&t, &index)) {
    EXPECT_EQ(index, expected_index++);
    rest.push_back(Key(t));
  }
  EXPECT_EQ(rest, std::vector<std::string>(sequence.begin() + 1000,
                                           sequence.end()));
}

TEST(TargetWalkerTest, RestoreRejectsOtherScans) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("10.0.0.0/24"), PortList::Defaults());
  TargetSpace space = *std::move(b).Build();
  TargetSpace::Builder b2;
  b2.AddRange(*ParseIpRange("10.0.1.0/24"), PortList::Defaults());
  TargetSpace other = *std::move(b2).Build();

  std::string saved = TargetWalker(&space, 5, Shard{1, 2}).SavePosition(10);
  EXPECT_EQ(TargetWalker(&space, 6, Shard{1, 2}).RestorePosition(saved).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(TargetWalker(&space, 5, Shard{2, 2}).RestorePosition(saved).code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Status changed = TargetWalker(&other, 5, Shard{1, 2}).RestorePosition(saved);
  EXPECT_EQ(changed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(changed.message()), HasSubstr("configuration changed"));
  EXPECT_EQ(TargetWalker(&space, 5, Shard{1, 2}).RestorePosition("garbage").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TargetWalker(&space, 5, Shard{1, 2})
                .RestorePosition("ers-walk/1 seed=5 shard=1/2 space=zz next=1")
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TargetWalker(&space, 5, Shard{1, 2}).RestorePosition(saved).ok());
}

TEST(ParseShardTest, GoodAndBad) {
  absl::StatusOr<Shard> s = ParseShard("2/7");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 7u);
  const std::pair<const char*, const char*> kBad[] = {
      {"0/3", "numbered 1 to 3"},
      {"4/3", "numbered 1 to 3"},
      {"1/0", "count must be"},
      {"1", "form k/N"},
      {"a/b", "form k/N"},
      {"1/2/3", "form k/N"},
  };
  for (const auto& c : kBad) {
    SCOPED_TRACE(c.first);
    absl::StatusOr<Shard> bad = ParseShard(c.first);
    ASSERT_FALSE(bad.ok());
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr(c.second));
  }
}

TEST(TargetWalkerTest, EmptySpace) {
  TargetSpace space = *TargetSpace::Builder().Build();
  TargetWalker walker(&space, 1, Shard{3, 4});
  Target t;
  EXPECT_EQ(walker.shard_size(), 0u);
  EXPECT_FALSE(walker.Next(&t));
}

}  // namespace
}  // namespace ers

#include "scanner/target_space.h"

#include <set>
#include <string>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

std::string Key(const Target& t) {
  return (t.has_address ? t.address.ToString() : std::string(t.name)) + ":" +
         std::to_string(t.port);
}

std::multiset<std::string> All(const TargetSpace& space) {
  std::multiset<std::string> out;
  for (uint64_t i = 0; i < space.size(); ++i) out.insert(Key(space.At(i)));
  return out;
}

TEST(TargetSpaceTest, RangeTimesPorts) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("198.51.100.0/24"), *PortList::Parse("8000-9000"));
  absl::StatusOr<TargetSpace> space = std::move(b).Build();
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->size(), 256u * 1001u);
  EXPECT_EQ(space->blocks().size(), 1u);
  EXPECT_EQ(Key(space->At(0)), "198.51.100.0:8000");
  EXPECT_EQ(Key(space->At(space->size() - 1)), "198.51.100.255:9000");
}

TEST(TargetSpaceTest, OverlappingEntriesGiveEachTargetOnce) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("10.0.0.0/30"), *PortList::Parse("443"));
  b.AddRange(*ParseIpRange("10.0.0.2-10.0.0.5"), *PortList::Parse("443,8443"));
  b.AddServer(*ParseServer("10.0.0.1"), *PortList::Parse("443"));
  b.AddServer(*ParseServer("web.example.com"), *PortList::Parse("443"));
  b.AddServer(*ParseServer("WEB.example.com"), *PortList::Parse("8443"));
  absl::StatusOr<TargetSpace> space = std::move(b).Build();
  ASSERT_TRUE(space.ok()) << space.status();
  std::multiset<std::string> expected = {
      "10.0.0.0:443",  "10.0.0.1:443",          "10.0.0.2:443",
      "10.0.0.2:8443", "10.0.0.3:443",          "10.0.0.3:8443",
      "10.0.0.4:443",  "10.0.0.4:8443",         "10.0.0.5:443",
      "10.0.0.5:8443", "web.example.com:443",   "web.example.com:8443"};
  EXPECT_EQ(All(*space), expected);
  EXPECT_EQ(space->num_names(), 1u);
  EXPECT_EQ(space->num_addresses(), 6u);
}

TEST(TargetSpaceTest, ExclusionsAreCutOut) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("10.0.0.0/29"), *PortList::Parse("443,993"));
  PrefixSet ex;
  ex.InsertRange(*ParseIpRange("10.0.0.2-10.0.0.3"));
  ex.Insert(*ParseIpAddress("10.0.0.7"), 32);
  b.SetExclusions(std::move(ex));
  absl::StatusOr<TargetSpace> space = std::move(b).Build();
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->size(), 5u * 2u);
  for (uint64_t i = 0; i < space->size(); ++i) {
    EXPECT_FALSE(space->IsExcluded(space->At(i).address)) << Key(space->At(i));
  }
  EXPECT_TRUE(space->IsExcluded(*ParseIpAddress("10.0.0.2")));
}

TEST(TargetSpaceTest, WholeIpv4SpaceIsBlocksNotTargets) {
  TargetSpace::Builder b;
  b.AllowSpecialAddresses(true);  // block arithmetic over the whole space
  b.AddRange(*ParseIpRange("0.0.0.0/0"), *PortList::Parse("443"));
  absl::StatusOr<TargetSpace> space = std::move(b).Build();
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->size(), uint64_t{1} << 32);
  EXPECT_EQ(Key(space->At((uint64_t{1} << 32) - 1)), "255.255.255.255:443");
}

TEST(TargetSpaceTest, TopOfIpv6SpaceDoesNotOverflow) {
  TargetSpace::Builder b;
  b.AllowSpecialAddresses(true);  // block arithmetic over the whole space
  b.AddRange(*ParseIpRange("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124"),
             *PortList::Parse("443"));
  absl::StatusOr<TargetSpace> space = std::move(b).Build();
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->size(), 16u);
  EXPECT_EQ(Key(space->At(15)), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:443");
}

TEST(TargetSpaceTest, TooLargeIsAClearError) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("2001:db8::/32"), *PortList::Parse("443"));
  absl::StatusOr<TargetSpace> space = std::move(b).Build();
  ASSERT_FALSE(space.ok());
  EXPECT_THAT(std::string(space.status().message()), HasSubstr("too large"));
}

TEST(TargetSpaceTest, FingerprintFollowsContents) {
  auto build = [](const char* ports) {
    TargetSpace::Builder b;
    b.AddRange(*ParseIpRange("10.0.0.0/24"), *PortList::Parse(ports));
    return *std::move(b).Build();
  };
  EXPECT_EQ(build("443").Fingerprint(), build("443").Fingerprint());
  EXPECT_NE(build("443").Fingerprint(), build("444").Fingerprint());
}

}  // namespace
}  // namespace ers

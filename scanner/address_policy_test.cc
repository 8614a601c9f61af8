#include "scanner/address_policy.h"

#include "gtest/gtest.h"
#include "scanner/port_list.h"
#include "scanner/target_space.h"
#include "scanner/target_walker.h"

namespace ers {
namespace {

IpAddress A(const char* text) { return *ParseIpAddress(text); }

TEST(AddressPolicyTest, EveryIpv6SpellingOfAnIpv4AddressIsFound) {
  const IpAddress v4 = A("10.1.2.3");
  EXPECT_EQ(EmbeddedV4(A("::ffff:10.1.2.3")), v4);      // IPv4-mapped
  EXPECT_EQ(EmbeddedV4(A("::10.1.2.3")), v4);           // IPv4-compatible
  EXPECT_EQ(EmbeddedV4(A("64:ff9b::10.1.2.3")), v4);    // NAT64
  EXPECT_EQ(EmbeddedV4(A("2002:a01:203::1")), v4);      // 6to4
  EXPECT_EQ(EmbeddedV4(A("2002:a01:203:ffff::")), v4);
  EXPECT_FALSE(EmbeddedV4(A("::")).has_value());
  EXPECT_FALSE(EmbeddedV4(A("::1")).has_value());
  EXPECT_FALSE(EmbeddedV4(A("2001:db8::10.1.2.3")).has_value());
  EXPECT_FALSE(EmbeddedV4(v4).has_value());
  EXPECT_EQ(NormalizeAddress(A("::ffff:10.1.2.3")), v4);
  EXPECT_EQ(NormalizeAddress(A("::10.1.2.3")), A("::10.1.2.3"));
}

TEST(AddressPolicyTest, SpecialPurposeSpaceInAnySpelling) {
  EXPECT_STREQ(SpecialPurpose(A("0.0.0.0")), "this host");
  EXPECT_STREQ(SpecialPurpose(A("0.1.2.3")), "this host");
  EXPECT_STREQ(SpecialPurpose(A("::")), "this host");
  EXPECT_STREQ(SpecialPurpose(A("::ffff:0.0.0.0")), "this host");
  EXPECT_STREQ(SpecialPurpose(A("224.0.0.1")), "multicast");
  EXPECT_STREQ(SpecialPurpose(A("ff02::1")), "multicast");
  EXPECT_STREQ(SpecialPurpose(A("::ffff:239.1.1.1")), "multicast");
  EXPECT_STREQ(SpecialPurpose(A("255.255.255.255")), "reserved");
  EXPECT_STREQ(SpecialPurpose(A("2002:f000::1")), "reserved");
  EXPECT_EQ(SpecialPurpose(A("127.0.0.1")), nullptr);  // loopback is allowed
  EXPECT_EQ(SpecialPurpose(A("::1")), nullptr);
  EXPECT_EQ(SpecialPurpose(A("10.0.0.1")), nullptr);
  const PrefixSet set = SpecialPurposeSet();
  for (const char* a : {"0.0.0.0", "::", "::ffff:0.0.0.1", "64:ff9b::e000:1", "ff00::",
                        "255.255.255.255", "::2"}) {
    EXPECT_TRUE(set.Contains(A(a))) << a;
  }
  for (const char* a : {"127.0.0.1", "::1", "::ffff:127.0.0.1", "1.1.1.1", "2001:db8::1"}) {
    EXPECT_FALSE(set.Contains(A(a))) << a;
  }
}

TEST(AddressPolicyTest, EmbeddedFormsOfAnIpv4BlockAreAddedAsPrefixes) {
  PrefixSet set;
  set.InsertRange(*ParseIpRange("127.0.0.0/8"));
  AddEmbeddedV4Forms(&set);
  for (const char* a : {"127.0.0.1", "::ffff:127.0.0.1", "::127.255.0.1", "64:ff9b::7f00:1",
                        "2002:7f00:1::", "2002:7fff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    EXPECT_TRUE(set.Contains(A(a))) << a;
  }
  for (const char* a : {"128.0.0.1", "::ffff:128.0.0.1", "::1", "2002:8000::", "64:ff9b::8000:0"}) {
    EXPECT_FALSE(set.Contains(A(a))) << a;
  }
}

TargetSpace Space(const char* range, const char* exclusions, bool allow_special = false) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange(range), *PortList::Parse("443"));
  b.SetExclusions(*ParseExclusionList(exclusions, "test"));
  b.AllowSpecialAddresses(allow_special);
  return *std::move(b).Build();
}

TEST(AddressPolicyTest, AnExcludedIpv4BlockCannotBeReachedThroughIpv6) {
  for (const char* range : {"::ffff:127.0.0.0/120", "::127.0.0.0/120", "64:ff9b::7f00:0/120",
                            "2002:7f00:1::/120"}) {
    EXPECT_EQ(Space(range, "127.0.0.0/8").size(), 0u) << range;
  }
  const TargetSpace space = Space("10.0.0.0/30", "127.0.0.0/8");
  EXPECT_TRUE(space.IsExcluded(A("::ffff:127.0.0.1")));
  EXPECT_TRUE(space.IsExcluded(A("2002:7f00:1::1")));
  EXPECT_EQ(space.WhyNotTarget(A("::ffff:127.0.0.1")),
            "address reaches 127.0.0.1, which is on the exclusion list");
  EXPECT_FALSE(space.IsExcluded(A("::ffff:10.0.0.1")));
  // A wide IPv6 range keeps its other addresses and loses the embedded ones.
  const TargetSpace wide = Space("::ffff:126.255.255.254/127", "127.0.0.0/8");
  EXPECT_EQ(wide.size(), 2u);
  const TargetSpace straddle = Space("::ffff:126.255.255.255-::ffff:127.0.0.1", "127.0.0.0/8");
  ASSERT_EQ(straddle.size(), 1u);
  EXPECT_EQ(straddle.At(0).address, A("::ffff:126.255.255.255"));
}

TEST(AddressPolicyTest, SpecialPurposeTargetsAreRefusedOrCutUnlessAllowed) {
  TargetSpace::Builder b;
  b.AddRange(*ParseIpRange("0.0.0.0"), *PortList::Parse("443"));
  absl::StatusOr<TargetSpace> refused = std::move(b).Build();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("this host"), std::string::npos);
  EXPECT_NE(refused.status().message().find("--allow-special-addresses"), std::string::npos);
  // 223.255.255.254-224.0.0.1: two allowed, two multicast.
  const TargetSpace cut = Space("223.255.255.254-224.0.0.1", "");
  EXPECT_EQ(cut.size(), 2u);
  EXPECT_EQ(cut.special_cut(), 2u);
  EXPECT_TRUE(cut.IsExcluded(A("224.0.0.1")));
  EXPECT_NE(cut.WhyNotTarget(A("224.0.0.1"))->find("multicast"), std::string::npos);
  const TargetSpace allowed = Space("223.255.255.254-224.0.0.1", "", true);
  EXPECT_EQ(allowed.size(), 4u);
  EXPECT_FALSE(allowed.IsExcluded(A("0.0.0.0")));
  EXPECT_EQ(Space("127.0.0.1", "").size(), 1u);
  EXPECT_EQ(Space("::1", "").size(), 1u);
}

}  // namespace
}  // namespace ers

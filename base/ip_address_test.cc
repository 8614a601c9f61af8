#include "base/ip_address.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

struct GoodCase {
  const char* input;
  const char* first;
  const char* last;
  const char* canonical;
};

TEST(ParseIpRangeTest, GoodInputs) {
  const GoodCase kCases[] = {
      {"198.51.100.0/24", "198.51.100.0", "198.51.100.255", "198.51.100.0/24"},
      {"10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1"},
      {"10.0.0.1/32", "10.0.0.1", "10.0.0.1", "10.0.0.1"},
      {"0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.0/0"},
      {"10.0.0.1-10.0.0.5", "10.0.0.1", "10.0.0.5", "10.0.0.1-10.0.0.5"},
      {"10.0.0.0-10.0.1.255", "10.0.0.0", "10.0.1.255", "10.0.0.0/23"},
      {"2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff",
       "2001:db8::/64"},
      {"::1", "::1", "::1", "::1"},
      {"[::1]", "::1", "::1", "::1"},
      {"2001:db8::1-2001:db8::9", "2001:db8::1", "2001:db8::9",
       "2001:db8::1-2001:db8::9"},
      {"255.255.255.255", "255.255.255.255", "255.255.255.255",
       "255.255.255.255"},
  };
  for (const GoodCase& c : kCases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<IpRange> r = ParseIpRange(c.input);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first.ToString(), c.first);
    EXPECT_EQ(r->last.ToString(), c.last);
    EXPECT_EQ(r->ToString(), c.canonical);
  }
}

struct BadCase {
  const char* input;
  const char* message;
};

TEST(ParseIpRangeTest, BadInputsNameTheProblem) {
  const BadCase kCases[] = {
      {"198.51.100.0/33", "prefix length \"33\" must be a number from 0 to 32"},
      {"198.51.100.0/", "prefix length \"\""},
      {"198.51.100.0/-1", "prefix length \"-1\""},
      {"198.51.100.5/24", "host bits set; did you mean 198.51.100.0/24?"},
      {"198.51.100", "expected four dotted octets"},
      {"198.51.100.256", "greater than 255"},
      {"198.51.100.x", "octet \"x\""},
      {"010.0.0.1", "leading zero"},
      {"1.2.3.4.5", "expected four dotted octets"},
      {"10.0.0.9-10.0.0.1", "ends before it starts"},
      {"10.0.0.1-::1", "mixes an IPv4 and an IPv6"},
      {"2001:db8::/129", "from 0 to 128"},
      {"2001:db8:::1", "not a valid IPv6 address"},
      {"[::1", "unclosed"},
      {"", "empty address"},
      {"example.com", "not an IPv4 address"},
  };
  for (const BadCase& c : kCases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<IpRange> r = ParseIpRange(c.input);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

TEST(ParseIpRangesTest, ListsAndErrors) {
  absl::StatusOr<std::vector<IpRange>> r =
      ParseIpRanges("10.0.0.0/30, 10.0.1.1 ,::1");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].ToString(), "10.0.1.1");
  EXPECT_EQ((*r)[2].first.family, IpFamily::kV6);

  absl::StatusOr<std::vector<IpRange>> bad = ParseIpRanges("10.0.0.0/30,,::1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("entry 2 is empty"));
  EXPECT_FALSE(ParseIpRanges("  ").ok());
}

TEST(RangeToPrefixesTest, MinimalCover) {
  std::vector<std::pair<IpAddress, int>> out;
  RangeToPrefixes(*ParseIpRange("10.0.0.1-10.0.0.6"), &out);
  std::vector<std::string> text;
  for (const auto& p : out) {
    text.push_back(p.first.ToString() + "/" + std::to_string(p.second));
  }
  EXPECT_THAT(text, ::testing::ElementsAre("10.0.0.1/32", "10.0.0.2/31",
                                           "10.0.0.4/31", "10.0.0.6/32"));
  out.clear();
  RangeToPrefixes(*ParseIpRange("0.0.0.0/0"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second, 0);
  out.clear();
  RangeToPrefixes(*ParseIpRange("::/0"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second, 0);
}

TEST(IpRangeTest, SizeSaturatesForTheWholeIpv6Space) {
  EXPECT_EQ(ParseIpRange("10.0.0.0/8")->Size(), absl::uint128(1) << 24);
  EXPECT_EQ(ParseIpRange("::/0")->Size(), ~absl::uint128(0));
}

TEST(IpAddressTest, TextWithANulByteIsRefused) {
  // inet_pton stops at the NUL: "::" would have been read.
  EXPECT_FALSE(ParseIpAddress(absl::string_view("::\0junk", 7)).ok());
  EXPECT_FALSE(ParseIpAddress(absl::string_view("10.0.0.1\0", 9)).ok());
  EXPECT_FALSE(ParseIpRange(absl::string_view("::\0.5/3", 7)).ok());
}

}  // namespace
}  // namespace ers

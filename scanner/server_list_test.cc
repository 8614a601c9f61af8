#include "scanner/server_list.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

TEST(ParseServersTest, NamesAndLiterals) {
  absl::StatusOr<std::vector<Server>> s =
      ParseServers("Mail.Example.COM., web.example.com,192.0.2.7,[2001:db8::1]");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ((*s)[0].host, "mail.example.com");
  EXPECT_FALSE((*s)[0].address.has_value());
  EXPECT_EQ((*s)[1].host, "web.example.com");
  EXPECT_EQ((*s)[2].host, "192.0.2.7");
  ASSERT_TRUE((*s)[2].address.has_value());
  EXPECT_EQ((*s)[3].host, "2001:db8::1");
  EXPECT_EQ((*s)[3].address->family, IpFamily::kV6);
}

TEST(ParseServersTest, DuplicatesFold) {
  absl::StatusOr<std::vector<Server>> s =
      ParseServers("a.example.com,A.example.com,b.example.com");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 2u);
}

TEST(ParseServersTest, BadInputsNameTheEntry) {
  const std::pair<const char*, const char*> kCases[] = {
      {"mail.example.com:443", "includes a port; give ports separately with --ports"},
      {"10.0.0.1:443", "includes a port"},
      {"[::1]:443", "includes a port"},
      {"10.0.0.0/24", "--ips"},
      {"bad_host!.example.com", "contains '!'"},
      {"-web.example.com", "starts or ends with a hyphen"},
      {"web..example.com", "empty label"},
      {"10.0.0.300", "greater than 255"},
      {"a,,b", "entry 2 is empty"},
      {"", "server list is empty"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.first);
    absl::StatusOr<std::vector<Server>> s = ParseServers(c.first);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.second));
  }
}

TEST(ValidateHostNameTest, Lengths) {
  std::string label63(63, 'a');
  EXPECT_TRUE(ValidateHostName(label63 + ".example.com").ok());
  EXPECT_THAT(std::string(ValidateHostName(label63 + "a.com").message()),
              HasSubstr("longer than 63"));
  std::string long_name;
  while (long_name.size() < 260) long_name += "abcdefghi.";
  long_name += "com";
  EXPECT_THAT(std::string(ValidateHostName(long_name).message()),
              HasSubstr("at most 253"));
}

}  // namespace
}  // namespace ers

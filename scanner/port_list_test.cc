#include "scanner/port_list.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

TEST(PortListTest, DefaultsAreTheProductTable) {
  PortList d = PortList::Defaults();
  EXPECT_EQ(d.ToString(), "443,465,636,853,989-990,992-993,995");
  EXPECT_EQ(d.size(), 9u);
  EXPECT_EQ(DefaultPortTable().size(), 9u);
  EXPECT_STREQ(DefaultPortTable()[0].service, "web (HTTPS)");
}

struct GoodCase {
  const char* input;
  const char* canonical;
  uint32_t size;
};

TEST(PortListTest, GoodInputs) {
  const GoodCase kCases[] = {
      {"443", "443", 1},
      {"8443,9443", "8443,9443", 2},
      {"8000-9000,9443", "8000-9000,9443", 1002},
      {"8000-9000", "8000-9000", 1001},
      {"9443, 8443 ,8443", "8443,9443", 2},
      {"1-65535", "1-65535", 65535},
      {"10-20,15-25,26", "10-26", 17},
      {"5-5", "5", 1},
      {"8000 - 8002", "8000-8002", 3},
  };
  for (const GoodCase& c : kCases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<PortList> p = PortList::Parse(c.input);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->ToString(), c.canonical);
    EXPECT_EQ(p->size(), c.size);
  }
}

TEST(PortListTest, BadInputsNameTheEntry) {
  const std::pair<const char*, const char*> kCases[] = {
      {"0", "0 is outside 1-65535"},
      {"65536", "65536 is outside 1-65535"},
      {"99999999", "\"99999999\" is not a port number"},
      {"443,abc", "\"abc\" is not a port number"},
      {"9000-8000", "\"9000-8000\": the range ends before it starts"},
      {"8000-", "port entry \"8000-\""},
      {"-5", "port entry \"-5\""},
      {"1-2-3", "port entry \"1-2-3\""},
      {"443,,993", "entry 2 is empty"},
      {"", "port list is empty"},
      {"+443", "not a port number"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.first);
    absl::StatusOr<PortList> p = PortList::Parse(c.first);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(c.second));
  }
}

TEST(PortListTest, AtWalksAscending) {
  PortList p = *PortList::Parse("9443,8000-8002,22");
  std::vector<uint16_t> all;
  for (uint32_t i = 0; i < p.size(); ++i) all.push_back(p.At(i));
  EXPECT_THAT(all, ::testing::ElementsAre(22, 8000, 8001, 8002, 9443));
  EXPECT_TRUE(p.Contains(8001));
  EXPECT_FALSE(p.Contains(8003));
}

TEST(PortListTest, Union) {
  PortList u = PortList::Union(*PortList::Parse("1-10"), *PortList::Parse("11,20"));
  EXPECT_EQ(u.ToString(), "1-11,20");
}

}  // namespace
}  // namespace ers

namespace ers {
namespace {

TEST(PortListTest, NamedSets) {
  absl::StatusOr<PortList> both = PortList::Parse("default, STARTTLS,8443");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->size(), 9u + 15u + 1u);
  for (uint16_t port : {443, 465, 993, 25, 587, 143, 389, 5432, 23, 8443}) {
    EXPECT_TRUE(both->Contains(port)) << port;
  }
  EXPECT_EQ(*PortList::Parse("default"), PortList::Defaults());
  EXPECT_EQ(PortList::Parse("starttls")->ToString(),
            "21,23-25,110,119,143,389,587,3306,3389,4190,5222,5269,5432");
  EXPECT_FALSE(PortList::Parse("defaults").ok());
}

}  // namespace
}  // namespace ers

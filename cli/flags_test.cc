#include "cli/flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

using ::testing::HasSubstr;

TEST(FlagSetTest, ValuesSwitchesAndPositionals) {
  std::optional<std::string> servers, ports;
  bool list = false;
  FlagSet flags("discover");
  flags.String("servers", "LIST", "servers", &servers);
  flags.String("ports", "LIST", "ports", &ports);
  flags.Bool("list", "list", &list);
  std::vector<std::string> positional;
  ASSERT_TRUE(flags
                  .Parse({"--servers", "a,b", "--ports=8443,9443", "--list",
                          "extra"},
                         &positional)
                  .ok());
  EXPECT_EQ(*servers, "a,b");
  EXPECT_EQ(*ports, "8443,9443");
  EXPECT_TRUE(list);
  EXPECT_THAT(positional, ::testing::ElementsAre("extra"));
  EXPECT_FALSE(flags.help_requested());
}

TEST(FlagSetTest, Errors) {
  std::optional<std::string> servers;
  bool list = false;
  FlagSet flags("discover");
  flags.String("servers", "LIST", "servers", &servers);
  flags.Bool("list", "list", &list);
  EXPECT_THAT(std::string(flags.Parse({"--server", "a"}, nullptr).message()),
              HasSubstr("unknown flag --server (known: --servers, --list)"));
  EXPECT_THAT(std::string(flags.Parse({"--servers"}, nullptr).message()),
              HasSubstr("--servers needs a value"));
  EXPECT_THAT(std::string(flags.Parse({"--list=yes"}, nullptr).message()),
              HasSubstr("takes no value"));
  EXPECT_THAT(std::string(flags.Parse({"stray"}, nullptr).message()),
              HasSubstr("unexpected argument \"stray\""));
  ASSERT_TRUE(flags.Parse({"--help"}, nullptr).ok());
  EXPECT_TRUE(flags.help_requested());
  EXPECT_THAT(flags.Usage(), HasSubstr("--servers LIST"));
}

}  // namespace
}  // namespace ers

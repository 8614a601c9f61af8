#include "base/flags.h"

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

TEST(FlagSetTest, OptionalValuesAndAliases) {
  std::optional<std::string> resume, ports, file;
  FlagSet flags("scan");
  flags.OptionalValue("resume", "auto", "resume", "yes", &resume);
  flags.String("ports", "LIST", "ports", &ports);
  flags.String("targets-file", "FILE", "targets", &file);
  flags.Alias("-p", "ports");
  flags.Alias("-iL", "targets-file");
  ASSERT_TRUE(flags.Parse({"--resume", "-p", "443", "-iL", "t.txt"}, nullptr).ok());
  EXPECT_EQ(resume, "yes");  // alone: the bare value; the next argument is not its value
  EXPECT_EQ(ports, "443");
  EXPECT_EQ(file, "t.txt");
  ASSERT_TRUE(flags.Parse({"--resume=auto"}, nullptr).ok());
  EXPECT_EQ(resume, "auto");
  EXPECT_THAT(flags.Usage(), HasSubstr("--resume[=auto]"));
  EXPECT_THAT(flags.Usage(), HasSubstr("-p, --ports LIST"));
  // An unknown short form is an unexpected argument, not a flag.
  EXPECT_FALSE(flags.Parse({"-x"}, nullptr).ok());
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

namespace ers {
namespace {

TEST(FlagSetTest, TypedCountsAndDurations) {
  std::optional<uint64_t> rate;
  std::optional<absl::Duration> timeout;
  FlagSet flags("scan");
  flags.Count("rate", "attempts per second", 1, 1000, &rate);
  flags.Duration("connect-timeout", "timeout", absl::Milliseconds(1),
                 absl::Hours(1), &timeout);
  ASSERT_TRUE(flags.Parse({"--rate=50", "--connect-timeout", "250ms"}, nullptr).ok());
  EXPECT_EQ(*rate, 50u);
  EXPECT_EQ(*timeout, absl::Milliseconds(250));
  FlagSet bad("scan");
  bad.Count("rate", "attempts per second", 1, 1000, &rate);
  absl::Status s = bad.Parse({"--rate", "0"}, nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("--rate \"0\" is not a number from 1 to 1000"));
  FlagSet bad_duration("scan");
  bad_duration.Duration("connect-timeout", "timeout", absl::Milliseconds(1),
                        absl::Hours(1), &timeout);
  EXPECT_FALSE(bad_duration.Parse({"--connect-timeout=soon"}, nullptr).ok());
}

}  // namespace
}  // namespace ers

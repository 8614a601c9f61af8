#include "base/encoding.h"

#include "base/digest.h"
#include "base/duration.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(EncodingTest, HexAndBase64RoundTrip) {
  const std::string bytes("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(HexEncode(bytes), "0001feff");
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  std::string back;
  ASSERT_TRUE(Base64Decode(Base64Encode(bytes), &back));
  EXPECT_EQ(back, bytes);
  EXPECT_FALSE(Base64Decode("not base64!", &back));
}

TEST(DigestTest, Sha256OfKnownInputs) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").size(), kSha256Len);
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

TEST(DurationTest, RangeAndSyntax) {
  auto d = ParseDurationIn("500ms", "--t", absl::Milliseconds(1), absl::Hours(1));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, absl::Milliseconds(500));
  auto bad = ParseDurationIn("5 parsecs", "--t", absl::Milliseconds(1), absl::Hours(1));
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("--t"));
  EXPECT_FALSE(ParseDurationIn("2h", "--t", absl::Milliseconds(1), absl::Hours(1)).ok());
  // Whole days.
  auto days = ParseDurationIn("30d", "--t", absl::Hours(1), absl::Hours(24 * 100));
  ASSERT_TRUE(days.ok()) << days.status();
  EXPECT_EQ(*days, absl::Hours(24 * 30));
  for (const char* bad_days : {"d", "1.5d", "-1d", "30dd", "101d"}) {
    EXPECT_FALSE(ParseDurationIn(bad_days, "--t", absl::Hours(1), absl::Hours(24 * 100)).ok())
        << bad_days;
  }
  EXPECT_FALSE(ParseDurationIn("0s", "--t", absl::Milliseconds(1), absl::Hours(1)).ok());
}

}  // namespace
}  // namespace ers

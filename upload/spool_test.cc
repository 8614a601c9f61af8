#include "upload/spool.h"

#include <string>

#include "gtest/gtest.h"

namespace ers {
namespace {

std::string Dir(const char* name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(SpoolTest, TheBoundHoldsWhileFillingAndFreesOnRemove) {
  Spool spool(Dir("bounded"), 1000);
  const std::string body(300, 'x');
  ASSERT_TRUE(spool.Add("a", body).ok());
  ASSERT_TRUE(spool.Add("b", body).ok());
  ASSERT_TRUE(spool.Add("c", body).ok());
  EXPECT_EQ(spool.Bytes(), 900u);
  EXPECT_FALSE(spool.Fits(200));
  EXPECT_TRUE(absl::IsResourceExhausted(spool.Add("d", body)));
  // Another Spool on the same directory (another process) sees the same.
  Spool other(Dir("bounded"), 1000);
  EXPECT_FALSE(other.Fits(200));
  absl::StatusOr<std::vector<std::string>> pending = spool.Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  ASSERT_TRUE(spool.Remove((*pending)[0]).ok());
  EXPECT_TRUE(spool.Fits(400));
  EXPECT_TRUE(spool.Add("d", body).ok());
  EXPECT_EQ(spool.Bytes(), 900u);
}

TEST(SpoolTest, RejectedBatchesDoNotCountAndComeBack) {
  Spool spool(Dir("rejected"), 500);
  ASSERT_TRUE(spool.Add("a", std::string(400, 'x')).ok());
  EXPECT_FALSE(spool.Fits(200));
  absl::StatusOr<std::vector<std::string>> pending = spool.Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE(spool.Reject((*pending)[0], "400 bad").ok());
  EXPECT_TRUE(spool.Fits(200));
  absl::StatusOr<int> back = spool.RetryRejected();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, 1);
  EXPECT_FALSE(spool.Fits(200));
}

}  // namespace
}  // namespace ers

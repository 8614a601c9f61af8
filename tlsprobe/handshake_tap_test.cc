// The record tap against a real TLS 1.2 server flight (captured from
// BoringSSL in memory): fed whole or byte by byte it finds the served
// chain; encrypted or non-TLS streams end it without certificates; its
// memory is bounded.
#include "tlsprobe/handshake_tap.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_pki.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

class HandshakeTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chain_ = testpki::MakeChain("tap.test", testpki::KeyType::kEcP256);
    flight_ = testing::CaptureTls12Flight({chain_.leaf.get(), chain_.intermediate.get()},
                                          chain_.leaf_key.get());
    ASSERT_GE(flight_.size(), 2u);
  }
  testpki::Chain chain_;
  std::vector<std::string> flight_;
};

TEST_F(HandshakeTapTest, FindsTheServedChain) {
  std::string all;
  for (const std::string& record : flight_) all += record;
  for (bool byte_by_byte : {false, true}) {
    HandshakeTap tap(256 * 1024);
    if (byte_by_byte) {
      for (char c : all) tap.OnBytes(std::string(1, c));
    } else {
      tap.OnBytes(all);
    }
    EXPECT_TRUE(tap.done());
    ASSERT_EQ(tap.certificates().size(), 2u);
    EXPECT_EQ(tap.certificates()[0], testpki::Der(chain_.leaf.get()));
    EXPECT_EQ(tap.certificates()[1], testpki::Der(chain_.intermediate.get()));
  }
}

TEST_F(HandshakeTapTest, StopsWhereItCannotSee) {
  // Not TLS at all.
  HandshakeTap garbage(256 * 1024);
  garbage.OnBytes("220 mail.test ESMTP\r\n");
  EXPECT_TRUE(garbage.done());
  EXPECT_TRUE(garbage.certificates().empty());
  // Encrypted from the start (ChangeCipherSpec, then application data).
  HandshakeTap encrypted(256 * 1024);
  encrypted.OnBytes(std::string("\x14\x03\x03\x00\x01\x01", 6));
  EXPECT_TRUE(encrypted.done());
  // More than the budget: stops, keeps nothing.
  HandshakeTap small(64);
  small.OnBytes(flight_[0] + flight_[1]);
  EXPECT_TRUE(small.done());
  EXPECT_TRUE(small.certificates().empty());
  // A Certificate message whose lengths disagree.
  HandshakeTap bad(256 * 1024);
  const std::string body("\x00\x00\x09\x00\x00\x10xyz", 9);  // claims 16 bytes
  std::string message = std::string("\x0b\x00\x00", 3) + static_cast<char>(body.size()) + body;
  std::string record = std::string("\x16\x03\x03\x00", 4) + static_cast<char>(message.size()) + message;
  bad.OnBytes(record);
  EXPECT_TRUE(bad.done());
  EXPECT_TRUE(bad.certificates().empty());
}

}  // namespace
}  // namespace ers

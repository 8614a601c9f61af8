#include "upload/uploader.h"

#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(ReadAcknowledgementTest, OnlyAReplyNamingTheBatchIsADelivery) {
  Acknowledgement ack = ReadAcknowledgement(R"({"batch_id":"b1","duplicate":false})", "b1");
  EXPECT_TRUE(ack.delivered);
  EXPECT_FALSE(ack.duplicate);
  ack = ReadAcknowledgement(R"({"batch_id":"b1","duplicate":true})", "b1");
  EXPECT_TRUE(ack.delivered);
  EXPECT_TRUE(ack.duplicate);
  // Another batch, none, not JSON, not an object: no delivery, and a reason.
  for (const char* body : {R"({"batch_id":"b2"})", R"({"ok":true})", "OK", "[\"b1\"]",
                           R"({"batch_id":null})", R"({"batch_id":1})"}) {
    ack = ReadAcknowledgement(body, "b1");
    EXPECT_FALSE(ack.delivered) << body;
    EXPECT_FALSE(ack.message.empty()) << body;
  }
  EXPECT_NE(ReadAcknowledgement(R"({"batch_id":"b2"})", "b1").message.find("\"b2\", not \"b1\""),
            std::string::npos);
  // An empty batch id is never acknowledged, even by an empty one.
  EXPECT_FALSE(ReadAcknowledgement(R"({"batch_id":""})", "").delivered);
}

TEST(ReadAcknowledgementTest, FieldsOfTheWrongTypeNeverThrow) {
  // {"duplicate":null} once ended ers with an uncaught type_error.
  Acknowledgement ack = ReadAcknowledgement(R"({"batch_id":"b1","duplicate":null})", "b1");
  EXPECT_TRUE(ack.delivered);
  EXPECT_FALSE(ack.duplicate);
  ack = ReadAcknowledgement(R"({"batch_id":"b1","duplicate":"yes"})", "b1");
  EXPECT_FALSE(ack.duplicate);
  // Server text in the message is bounded and printable.
  ack = ReadAcknowledgement(
      std::string(R"({"batch_id":")") + std::string(10000, 'x') + "\x1b[2J\"}", "b1");
  EXPECT_FALSE(ack.delivered);
  EXPECT_LT(ack.message.size(), 300u);
  EXPECT_EQ(ack.message.find('\x1b'), std::string::npos);
}

TEST(IsBatchRejectionTest, TheBatchNotTheClientOrTheMoment) {
  for (long s : {400, 409, 413, 415, 422}) EXPECT_TRUE(IsBatchRejection(s)) << s;
  for (long s : {200, 401, 403, 404, 408, 429, 500, 503}) EXPECT_FALSE(IsBatchRejection(s)) << s;
}

}  // namespace
}  // namespace ers

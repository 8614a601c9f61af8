#include "sweep/worker_codec.h"

#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(WorkerCodecTest, RecordRoundTripsThroughFramesSplitAnywhere) {
  ProbeResult r;
  r.address = IpAddress::V6(absl::MakeUint128(0x20010db8u, 7));
  r.port = 8443;
  r.name = "web.example.com";
  r.sni = "web.example.com";
  r.outcome = Outcome::kTls;
  r.detail = std::string("bytes\0and\xff", 10);
  r.alert = -1;
  r.mode = ProbeMode::kFull;
  r.rung = 2;
  r.attempts = 3;
  r.connect_ms = 1.25;
  r.handshake_ms = 7.5;
  r.start_unix_ms = 1700000000123;
  r.version = 0x0303;
  r.version_name = "TLSv1.2";
  r.cipher = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
  r.chain = {std::string(3000, 'a'), std::string(1, '\0')};
  r.ocsp_response = "ocsp";
  r.sct_list = "scts";
  r.bytes_received = 4242;
  std::string stream;
  AppendRecordFrame(r, 17, 12, &stream);
  WorkerReport report;
  report.stats.results = 5;
  report.stats.by_outcome[2] = 4;
  report.interrupted = true;
  report.concurrency = 99;
  report.resume_position = 18;
  report.error = "boom";
  AppendReportFrame(report, &stream);

  // Feed the stream one byte at a time: frames come out whole and once.
  FrameReader reader;
  std::vector<std::pair<FrameType, std::string>> frames;
  for (char c : stream) {
    reader.Append(&c, 1);
    FrameType type;
    absl::string_view payload;
    absl::Status error;
    while (reader.Next(&type, &payload, &error)) frames.emplace_back(type, std::string(payload));
    ASSERT_TRUE(error.ok());
  }
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_EQ(frames[0].first, FrameType::kRecord);
  ProbeResult back;
  uint64_t position = 0, mark = 0;
  ASSERT_TRUE(DecodeRecord(frames[0].second, &back, &position, &mark).ok());
  EXPECT_EQ(position, 17u);
  EXPECT_EQ(mark, 12u);
  EXPECT_EQ(back.address, r.address);
  EXPECT_EQ(back.port, r.port);
  EXPECT_EQ(back.name, r.name);
  EXPECT_EQ(back.detail, r.detail);
  EXPECT_EQ(back.outcome, r.outcome);
  EXPECT_EQ(back.mode, r.mode);
  EXPECT_EQ(back.rung, 2);
  EXPECT_STREQ(back.rung_name, "tls1.2");
  EXPECT_EQ(back.connect_ms, 1.25);
  EXPECT_EQ(back.start_unix_ms, r.start_unix_ms);
  EXPECT_EQ(back.cipher, r.cipher);
  EXPECT_EQ(back.chain, r.chain);
  EXPECT_EQ(back.bytes_received, 4242u);
  ASSERT_EQ(frames[1].first, FrameType::kReport);
  WorkerReport report_back;
  ASSERT_TRUE(DecodeReport(frames[1].second, &report_back).ok());
  EXPECT_EQ(report_back.stats.results, 5u);
  EXPECT_EQ(report_back.stats.by_outcome[2], 4u);
  EXPECT_TRUE(report_back.interrupted);
  EXPECT_EQ(report_back.resume_position, 18u);
  EXPECT_EQ(report_back.error, "boom");
}

TEST(WorkerCodecTest, CorruptInputIsAnErrorNotACrash) {
  ProbeResult r;
  std::string stream;
  AppendRecordFrame(r, 1, 1, &stream);
  // Truncated payloads and trailing bytes are refused.
  for (size_t cut = 0; cut + 1 < stream.size() - 5; ++cut) {
    ProbeResult back;
    uint64_t p, m;
    EXPECT_FALSE(DecodeRecord(absl::string_view(stream).substr(5, cut), &back, &p, &m).ok());
  }
  ProbeResult back;
  uint64_t p, m;
  EXPECT_FALSE(DecodeRecord(stream.substr(5) + "x", &back, &p, &m).ok());
  // A frame length beyond the limit is a corrupt stream.
  FrameReader reader;
  const char huge[] = {0x7f, 0x00, 0x00, 0x00, 0x01};
  reader.Append(huge, sizeof(huge));
  FrameType type;
  absl::string_view payload;
  absl::Status error;
  EXPECT_FALSE(reader.Next(&type, &payload, &error));
  EXPECT_FALSE(error.ok());
}

}  // namespace
}  // namespace ers

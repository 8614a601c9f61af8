#include "sweep/record_json.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "gtest/gtest.h"
#include "sweep/chain_analyzer.h"
#include "tests/test_pki.h"

namespace ers {
namespace {

ScanRecord TlsRecord(const std::vector<std::string>& ders,
                     std::shared_ptr<const ChainInfo> chain, uint16_t port) {
  ScanRecord r;
  r.result.address = *ParseIpAddress("127.0.0.1");
  r.result.port = port;
  r.result.outcome = Outcome::kTls;
  r.result.version = 0x0304;
  r.result.version_name = "TLSv1.3";
  r.result.chain = ders;
  r.result.ocsp_response = "ocsp\x01";
  r.result.alert = 40;
  r.chain = std::move(chain);
  return r;
}

TEST(RecordJsonTest, WriterRendersEachChainOnceAndWritesWhatRecordToJsonWrites) {
  testpki::Chain a = testpki::MakeChain("a.test", testpki::KeyType::kEcP256, 10);
  testpki::Chain b = testpki::MakeChain("b.test", testpki::KeyType::kEcP256, 20);
  const std::vector<std::string> ders_a = {testpki::Der(a.leaf.get()),
                                           testpki::Der(a.intermediate.get())};
  const std::vector<std::string> ders_b = {testpki::Der(b.leaf.get())};
  auto info_a = BuildChainInfo(ders_a, "", 0x0304, nullptr, nullptr, 0);
  auto info_b = BuildChainInfo(ders_b, "", 0x0304, nullptr, nullptr, 0);
  ASSERT_NE(info_a, nullptr);
  ASSERT_NE(info_b, nullptr);
  std::vector<ScanRecord> records = {TlsRecord(ders_a, info_a, 1), TlsRecord(ders_b, info_b, 2),
                                     TlsRecord(ders_a, info_a, 3)};
  ScanRecord refused;
  refused.result.address = *ParseIpAddress("127.0.0.2");
  refused.result.port = 4;
  refused.result.outcome = Outcome::kRefused;
  records.push_back(refused);

  RecordJsonWriter writer;
  for (const ScanRecord& r : records) {
    std::string line;
    writer.Append(r, &line);
    EXPECT_EQ(line, RecordToJson(r));
    nlohmann::json j = nlohmann::json::parse(line);
    ASSERT_TRUE(j["chain"].is_array());
    ASSERT_EQ(j["chain"].size(), r.result.chain.size());
    for (size_t i = 0; i < r.result.chain.size(); ++i) {
      std::string der;
      ASSERT_TRUE(Base64Decode(j["chain"][i].get<std::string>(), &der));
      EXPECT_EQ(der, r.result.chain[i]);
    }
    if (r.result.outcome == Outcome::kTls) {
      EXPECT_EQ(j["alert"], 40);
      EXPECT_EQ(j["tls"]["version"], "TLSv1.3");
      std::string ocsp;
      ASSERT_TRUE(Base64Decode(j["ocsp_response"].get<std::string>(), &ocsp));
      EXPECT_EQ(ocsp, "ocsp\x01");
      absl::StatusOr<ScanRecord> back = RecordFromJson(line);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->result.chain, r.result.chain);
      EXPECT_EQ(back->result.port, r.result.port);
    } else {
      EXPECT_FALSE(j.contains("alert"));
      EXPECT_FALSE(j.contains("ocsp_response"));
    }
  }
}

}  // namespace
}  // namespace ers

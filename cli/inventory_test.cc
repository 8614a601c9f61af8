// The inventory's import of result lines: what is stored, what is only
// counted, and what is refused (with nothing half-stored). Inputs that the
// fuzzer (tools/fuzz.sh) found crashing are kept here as regression cases.
#include "cli/inventory.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"

namespace ers {
namespace {

int64_t Count(Inventory& inv, const char* table) {
  auto st = Prepare(inv.db(), (std::string("SELECT count(*) FROM ") + table).c_str());
  EXPECT_TRUE(st.ok());
  sqlite3_step(st->get());
  return sqlite3_column_int64(st->get(), 0);
}

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inv = Inventory::Open(":memory:");
    ASSERT_TRUE(inv.ok()) << inv.status();
    inv_ = *std::move(inv);
    run_ = *inv_->BeginRun("{}");
    chain_ = testpki::MakeChain("inv.test", testpki::KeyType::kEcP256);
  }
  std::string TlsLine(const std::string& ip, int port) {
    return "{\"schema_version\":1,\"ip\":\"" + ip + "\",\"port\":" + std::to_string(port) +
           ",\"name\":\"\",\"sni\":\"\",\"outcome\":\"tls\",\"time\":\"2026-11-25T06:00:00.000Z\","
           "\"tls\":{\"version\":\"TLSv1.3\"},\"chain\":[\"" +
           absl::Base64Escape(testpki::Der(chain_.leaf.get())) + "\",\"" +
           absl::Base64Escape(testpki::Der(chain_.intermediate.get())) + "\"]}";
  }
  std::unique_ptr<Inventory> inv_;
  int64_t run_ = 0;
  testpki::Chain chain_;
};

TEST_F(InventoryTest, StoresCertificatesOnceAndSightingsPerEndpoint) {
  ASSERT_TRUE(inv_->AddResultLine(run_, TlsLine("127.0.0.1", 443)).ok());
  ASSERT_TRUE(inv_->AddResultLine(run_, TlsLine("127.0.0.2", 443)).ok());
  ASSERT_TRUE(inv_->AddResultLine(run_, TlsLine("127.0.0.1", 443)).ok());
  ASSERT_TRUE(inv_->AddResultLine(run_, R"({"ip":"127.0.0.3","port":1,"outcome":"refused"})").ok());
  ASSERT_TRUE(inv_->FinishRun(run_, "done", 4, 1.0).ok());
  EXPECT_EQ(Count(*inv_, "certificates"), 2);
  EXPECT_EQ(Count(*inv_, "sightings"), 2);
  EXPECT_EQ(Count(*inv_, "endpoint_results"), 2);
  auto runs = inv_->Runs(1);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[0].results, 4u);
  EXPECT_EQ((*runs)[0].tls, 3u);
}

TEST_F(InventoryTest, MalformedLinesAreRefusedWhole) {
  const std::string kBad[] = {
      R"("outcome":"tls" but not JSON)",
      R"({"outcome":"tls"})",
      R"({"ip":"127.0.0.1","port":443,"outcome":"tls","chain":[]})",
      R"({"ip":"127.0.0.1","port":443,"outcome":"tls","chain":["***"]})",
      R"({"ip":"127.0.0.1","port":"443","outcome":"tls","chain":["MAMCAQA="]})",
      R"({"ip":"127.0.0.1","port":70000,"outcome":"tls","chain":["MAMCAQA="]})",
      // Found by fuzz_inventory_import: a port too large for any integer
      // (parsed as a float) was converted with undefined behaviour.
      R"({"schema_version":2,"ip":"127.0.0.1","port":441111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111113,"np":"127.0.0.1","port7.0.ni":"","outcome":"tls","time":["MAMCAQA="]})",
  };
  for (const std::string& line : kBad) {
    SCOPED_TRACE(line);
    EXPECT_EQ(inv_->AddResultLine(run_, line).code(), absl::StatusCode::kInvalidArgument);
  }
  ASSERT_TRUE(inv_->Flush().ok());
  EXPECT_EQ(Count(*inv_, "certificates"), 0) << "nothing half-stored";
  EXPECT_EQ(Count(*inv_, "endpoint_results"), 0);
  // A good line still goes in afterwards.
  EXPECT_TRUE(inv_->AddResultLine(run_, TlsLine("127.0.0.1", 443)).ok());
}

TEST_F(InventoryTest, UnparsableCertificatesAreKeptRaw) {
  const std::string line =
      R"({"ip":"127.0.0.9","port":443,"name":"","outcome":"tls","chain":["MAMCAQA="]})";
  ASSERT_TRUE(inv_->AddResultLine(run_, line).ok());
  ASSERT_TRUE(inv_->Flush().ok());
  EXPECT_EQ(Count(*inv_, "certificates"), 1);
}

TEST_F(InventoryTest, CheckpointIsCommittedWithTheResults) {
  int calls = 0;
  inv_->SetCheckpoint([&]() -> absl::StatusOr<std::string> {
    ++calls;
    return std::string("ers-walk/1 seed=1 shard=1/1 space=0 next=7");
  });
  ASSERT_TRUE(inv_->AddResultLine(run_, TlsLine("127.0.0.1", 443)).ok());
  ASSERT_TRUE(inv_->Flush().ok());
  EXPECT_GE(calls, 1);
  auto st = Prepare(inv_->db(), "SELECT value FROM settings WHERE key = 'resume_point'");
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(sqlite3_step(st->get()), SQLITE_ROW);
  EXPECT_EQ(ColumnText(st->get(), 0), "ers-walk/1 seed=1 shard=1/1 space=0 next=7");
  inv_->SetCheckpoint(nullptr);  // |calls| dies with this test
}

}  // namespace
}  // namespace ers

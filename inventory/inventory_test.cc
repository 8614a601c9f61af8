// The inventory's import of result lines: what is stored, what is only
// counted, and what is refused (with nothing half-stored). Inputs that the
// fuzzer (tools/fuzz.sh) found crashing are kept here as regression cases.
#include "inventory/inventory.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/escaping.h"
#include "inventory/scan_run.h"
#include "sweep/record_json.h"
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
  InventorySink sink(inv_.get(), run_);
  absl::StatusOr<ScanRecord> record = RecordFromJson(TlsLine("127.0.0.1", 443));
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(sink.Record(*record).ok());
  ASSERT_TRUE(sink.Checkpoint("ers-walk/1 seed=1 shard=1/1 space=0 next=7").ok());
  EXPECT_EQ(*inv_->ResumePoint(), "ers-walk/1 seed=1 shard=1/1 space=0 next=7");
  EXPECT_EQ(Count(*inv_, "endpoint_results"), 1);
  ASSERT_TRUE(inv_->ClearResumePoint().ok());
  EXPECT_EQ(*inv_->ResumePoint(), "");
}

TEST_F(InventoryTest, TypedRecordsStoreParsedFieldsWithoutReparsing) {
  absl::StatusOr<ScanRecord> record = RecordFromJson(TlsLine("127.0.0.1", 443));
  ASSERT_TRUE(record.ok());
  // The inventory takes the certificate's fields from the record's
  // ChainInfo, as parsed once by the sweep: change one to see it used.
  auto info = std::make_shared<ChainInfo>(*record->chain);
  info->certificates[0].subject_cn = "from the record";
  record->chain = info;
  ASSERT_TRUE(inv_->AddRecord(run_, *record).ok());
  ASSERT_TRUE(inv_->Commit().ok());
  auto st = Prepare(inv_->db(), "SELECT subject_cn FROM certificates WHERE sha256 = ?1");
  ASSERT_TRUE(st.ok());
  BindText(st->get(), 1, info->certificates[0].sha256_hex);
  ASSERT_EQ(sqlite3_step(st->get()), SQLITE_ROW);
  EXPECT_EQ(ColumnText(st->get(), 0), "from the record");
  // A TLS record without its ChainInfo is refused.
  record->chain = nullptr;
  EXPECT_FALSE(inv_->AddRecord(run_, *record).ok());
}

// A database written by ers 0.1 (no schema version; kept as SQL text in
// testdata/) opens, is upgraded in place, and keeps its data.
TEST(InventoryMigrationTest, UpgradesAFileOfThePreviousRelease) {
  const std::string path = ::testing::TempDir() + "/v0.db";
  unlink(path.c_str());
  {
    std::ifstream in("inventory/testdata/inventory_v0.sql");
    ASSERT_TRUE(in.good());
    std::string sql((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    absl::StatusOr<SqliteDb> db = OpenSqlite(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(SqlExec(db->get(), sql.c_str(), path).ok());
  }
  auto inv = Inventory::Open(path);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ((*inv)->schema_version(), Inventory::kSchemaVersion);
  EXPECT_EQ(Count(**inv, "certificates"), 1);
  EXPECT_EQ(Count(**inv, "sightings"), 1);
  auto entries = (*inv)->config().List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].spec, "mail.example.com");
  EXPECT_EQ(*(*inv)->ResumePoint(), "ers-walk/1 seed=5 shard=1/1 space=abc next=3");
  auto runs = (*inv)->Runs(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "done");
  auto idx = Prepare((*inv)->db(),
                     "SELECT count(*) FROM sqlite_master WHERE name = 'sightings_endpoint'");
  ASSERT_TRUE(idx.ok());
  sqlite3_step(idx->get());
  EXPECT_EQ(sqlite3_column_int(idx->get(), 0), 1);
  inv->reset();
  // Opening again is a no-op; a file from a newer ers is refused.
  ASSERT_TRUE(Inventory::Open(path).ok());
  {
    absl::StatusOr<SqliteDb> db = OpenSqlite(path);
    ASSERT_TRUE(SqlExec(db->get(), "PRAGMA user_version = 99;", path).ok());
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(Inventory::Open(path).status()));
}

}  // namespace
}  // namespace ers

namespace ers {
namespace {

TEST(ScanRunTest, FinishKeepsOrClearsTheResumePoint) {
  auto inv = Inventory::Open(":memory:");
  ASSERT_TRUE(inv.ok());
  auto stopped = ScanRun::Begin(inv->get(), "{}");
  ASSERT_TRUE(stopped.ok());
  SweepSummary summary;
  summary.interrupted = true;
  summary.targets_walked = 7;
  ASSERT_TRUE((*stopped)->Finish(summary, absl::OkStatus(), "ers-walk/1 seed=1 shard=1/1 space=0 next=7").ok());
  EXPECT_EQ(*(*inv)->ResumePoint(), "ers-walk/1 seed=1 shard=1/1 space=0 next=7");
  auto runs = (*inv)->Runs(1);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[0].status, "interrupted");
  // A failed sweep keeps its point too.
  auto failed = ScanRun::Begin(inv->get(), "{}");
  ASSERT_TRUE((*failed)->Finish(summary, absl::DataLossError("disk full"), "ers-walk/1 seed=1 shard=1/1 space=0 next=9").ok());
  EXPECT_EQ(*(*inv)->ResumePoint(), "ers-walk/1 seed=1 shard=1/1 space=0 next=9");
  EXPECT_EQ((*(*inv)->Runs(1))[0].status, "failed");
  // A finished one, or one stopped after its last target, clears it.
  auto done = ScanRun::Begin(inv->get(), "{}");
  ASSERT_TRUE((*done)->Finish(summary, absl::OkStatus(), "").ok());
  EXPECT_EQ(*(*inv)->ResumePoint(), "");
  summary.interrupted = false;
  auto clean = ScanRun::Begin(inv->get(), "{}");
  ASSERT_TRUE((*clean)->Finish(summary, absl::OkStatus(), "").ok());
  EXPECT_EQ((*(*inv)->Runs(1))[0].status, "done");
}

}  // namespace
}  // namespace ers

namespace ers {
namespace {

// ":memory:" is SQLite's in-memory database: opening it must not leave a
// file of that name in the working directory (an older release did).
TEST(InventoryOpenTest, InMemoryLeavesNoFile) {
  char dir[] = "/tmp/ers-inv-mem-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  char old[4096];
  ASSERT_NE(getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(chdir(dir), 0);
  {
    auto inv = Inventory::Open(":memory:");
    ASSERT_TRUE(inv.ok()) << inv.status();
    EXPECT_TRUE((*inv)->BeginRun("{}").ok());
  }
  EXPECT_NE(access(":memory:", F_OK), 0);
  ASSERT_EQ(chdir(old), 0);
  rmdir(dir);
}

}  // namespace
}  // namespace ers

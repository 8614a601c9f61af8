// PushSpool against the reference CLM (plain HTTP on loopback, port 0):
// what an embedder sees through PushOptions.
#include <string>
#include <vector>

#include "clm/clm_server.h"
#include "clm/clm_store.h"
#include "gtest/gtest.h"
#include "upload/batches.h"
#include "upload/spool.h"
#include "upload/uploader.h"

namespace ers {
namespace {

class PushSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(getenv("TEST_TMPDIR")) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    absl::StatusOr<std::unique_ptr<ClmStore>> store = ClmStore::Open(dir_ + "/clm.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ClmServerOptions o;
    o.port = 0;
    o.tokens["tok-0123456789abcdef"] = "embedder";
    absl::StatusOr<std::unique_ptr<ClmServer>> server = ClmServer::Start(o, store_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    credentials_.url = "http://127.0.0.1:" + std::to_string(server_->port());
    credentials_.token = "tok-0123456789abcdef";
  }

  // Spools |n| small batches and returns their ids in order.
  std::vector<std::string> SpoolBatches(Spool& spool, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(NewBatchId());
      EXPECT_TRUE(spool.Add(ids.back(), "{\"batch_id\":\"" + ids.back() + "\"}").ok());
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<ClmStore> store_;
  std::unique_ptr<ClmServer> server_;
  Credentials credentials_;
};

TEST_F(PushSpoolTest, OnDeliveredNamesEachAcknowledgedBatch) {
  Spool spool(dir_ + "/spool");
  const std::vector<std::string> ids = SpoolBatches(spool, 3);
  std::vector<std::string> delivered;
  PushOptions o;
  o.source_address = "127.0.0.5";
  o.on_delivered = [&](const std::string& id, int attempts, absl::Duration elapsed) {
    delivered.push_back(id);
    EXPECT_EQ(attempts, 1);
    EXPECT_GE(elapsed, absl::ZeroDuration());
  };
  const PushReport r = PushSpool(credentials_, spool, o);
  EXPECT_EQ(r.sent, 3) << r.error;
  EXPECT_EQ(delivered, ids);
}

TEST_F(PushSpoolTest, ASourceAddressThisHostLacksDeliversNothing) {
  Spool spool(dir_ + "/spool");
  SpoolBatches(spool, 1);
  bool called = false;
  PushOptions o;
  o.max_attempts = 1;
  o.source_address = "192.0.2.1";  // TEST-NET-1: never a local address
  o.on_delivered = [&](const std::string&, int, absl::Duration) { called = true; };
  const PushReport r = PushSpool(credentials_, spool, o);
  EXPECT_EQ(r.sent, 0);
  EXPECT_EQ(r.remaining, 1);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace ers

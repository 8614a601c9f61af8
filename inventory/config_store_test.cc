#include "inventory/config_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "ers/sweep.h"
#include "inventory/inventory.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

class ConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/cfg-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() +
            "/sub/ers.db";
    unlink(path_.c_str());
  }
  // Open opens the inventory and returns its configuration.
  ConfigStore* Open() {
    absl::StatusOr<std::unique_ptr<Inventory>> s = Inventory::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status();
    inventory_ = s.ok() ? *std::move(s) : nullptr;
    return inventory_ != nullptr ? &inventory_->config() : nullptr;
  }
  std::string path_;
  std::unique_ptr<Inventory> inventory_;
};

TEST_F(ConfigStoreTest, ConsecutiveDiscoverCallsAddAndReconfigure) {
  {
    auto store = Open();
    // ers discover --servers mail.example.com
    EXPECT_EQ(*store->Upsert(EntryKind::kServer, "mail.example.com", {}),
              DiscoverChange::kAdded);
  }
  {
    // A new process: the configuration survived.
    auto store = Open();
    // ers discover --servers "mail.example.com,web.example.com" --ports 8443,9443
    PortList p = *PortList::Parse("8443,9443");
    EXPECT_EQ(*store->Upsert(EntryKind::kServer, "mail.example.com", p),
              DiscoverChange::kPortsChanged);
    EXPECT_EQ(*store->Upsert(EntryKind::kServer, "web.example.com", p),
              DiscoverChange::kAdded);
    // Naming an entry again without ports keeps its ports.
    EXPECT_EQ(*store->Upsert(EntryKind::kServer, "web.example.com", {}),
              DiscoverChange::kUnchanged);
    EXPECT_EQ(*store->Upsert(EntryKind::kIpRange, "198.51.100.0/24",
                             *PortList::Parse("8000-9000")),
              DiscoverChange::kAdded);
  }
  auto store = Open();
  std::vector<DiscoverEntry> entries = *store->List();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].spec, "mail.example.com");
  EXPECT_EQ(entries[0].ports.ToString(), "8443,9443");
  EXPECT_EQ(entries[1].spec, "web.example.com");
  EXPECT_EQ(entries[2].kind, EntryKind::kIpRange);
  EXPECT_EQ(entries[2].ports.ToString(), "8000-9000");

  // The entries become a sweep's target groups, each with its ports.
  SweepOptions options;
  for (const DiscoverEntry& e : entries) {
    TargetGroup g;
    (e.kind == EntryKind::kServer ? g.servers : g.ips) = e.spec;
    g.ports = e.ports.ToString();
    options.groups.push_back(g);
  }
  options.analyse = false;
  auto sweep = Sweep::Create(options);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ((*sweep)->num_targets(), 2u + 2u + 256u * 1001u);
}

TEST_F(ConfigStoreTest, DefaultsRemoveAndSetAllPorts) {
  auto store = Open();
  ASSERT_TRUE(store->Upsert(EntryKind::kServer, "a.example.com", {}).ok());
  ASSERT_TRUE(store->Upsert(EntryKind::kServer, "b.example.com", {}).ok());
  EXPECT_EQ(store->List()->at(0).ports, PortList::Defaults());
  EXPECT_TRUE(*store->Remove("a.example.com"));
  EXPECT_FALSE(*store->Remove("a.example.com"));
  EXPECT_EQ(*store->SetAllPorts(*PortList::Parse("443")), 1);
  EXPECT_EQ(*store->SetAllPorts(*PortList::Parse("443")), 0);
  EXPECT_EQ(store->List()->at(0).ports.ToString(), "443");
}

TEST_F(ConfigStoreTest, RollbackDiscardsAWholeCall) {
  auto store = Open();
  ASSERT_TRUE(store->Begin().ok());
  ASSERT_TRUE(store->Upsert(EntryKind::kServer, "a.example.com", {}).ok());
  store->Rollback();
  EXPECT_TRUE(store->List()->empty());
}

TEST_F(ConfigStoreTest, Settings) {
  auto store = Open();
  EXPECT_FALSE(store->GetSetting("k")->has_value());
  ASSERT_TRUE(store->SetSetting("k", "v1").ok());
  ASSERT_TRUE(store->SetSetting("k", "v2").ok());
  EXPECT_EQ(**store->GetSetting("k"), "v2");
  ASSERT_TRUE(store->ClearSetting("k").ok());
  EXPECT_FALSE(store->GetSetting("k")->has_value());
}

TEST_F(ConfigStoreTest, UnopenablePathIsAClearError) {
  absl::StatusOr<std::unique_ptr<Inventory>> s =
      Inventory::Open("/proc/ers-cannot-be-here/ers.db");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              ::testing::HasSubstr("/proc/ers-cannot-be-here"));
}

TEST_F(ConfigStoreTest, CorruptStoredPortsAreDataLossNotACrash) {
  auto store = Open();
  ASSERT_TRUE(store->Upsert(EntryKind::kServer, "a.example.com", {}).ok());
  inventory_.reset();
  // Another program wrote nonsense into the database.
  std::string cmd = "sqlite3 '" + path_ +
                    "' \"UPDATE discover_entries SET ports='x-y'\"";
  if (system(cmd.c_str()) != 0) GTEST_SKIP() << "sqlite3 shell unavailable";
  store = Open();
  absl::StatusOr<std::vector<DiscoverEntry>> entries = store->List();
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ers

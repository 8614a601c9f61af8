#include "clm/clm_store.h"

#include <string>

#include "base/digest.h"
#include "base/encoding.h"
#include "base/sqlite_db.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

std::string TempPath(const char* name) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  unlink(path.c_str());
  return path;
}

nlohmann::json Batch(const std::string& id, const std::string& der, int port) {
  return {{"batch_id", id},
          {"certificates", {{{"sha256", Sha256Hex(der)}, {"der", Base64Encode(der)}}}},
          {"sightings", {{{"sha256", Sha256Hex(der)}, {"ip", "127.0.0.9"}, {"port", port}}}}};
}

// A database written by the version before namespaces: a token client and
// a certificate client, each with a batch, a sighting and a run.
TEST(ClmStoreTest, MigratesClientNamesIntoTheirNamespaces) {
  const std::string path = TempPath("clm-v1.db");
  {
    absl::StatusOr<SqliteDb> db = OpenSqlite(path);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(SqlExec(db->get(), R"sql(
      CREATE TABLE clients (name TEXT PRIMARY KEY, identity TEXT, first_contact INTEGER,
        last_contact INTEGER, batches INTEGER DEFAULT 0);
      CREATE TABLE batches (client TEXT NOT NULL, batch_id TEXT NOT NULL,
        body_sha256 TEXT NOT NULL DEFAULT '', received INTEGER NOT NULL, reply TEXT NOT NULL,
        PRIMARY KEY (client, batch_id));
      CREATE TABLE certificates (sha256 TEXT PRIMARY KEY, der BLOB NOT NULL,
        first_seen INTEGER NOT NULL);
      CREATE TABLE sightings (client TEXT NOT NULL, sha256 TEXT NOT NULL, ip TEXT NOT NULL,
        port INTEGER NOT NULL, name TEXT NOT NULL, sni TEXT, tls_version TEXT,
        first_seen INTEGER, last_seen INTEGER, findings TEXT, chain TEXT,
        PRIMARY KEY (client, sha256, ip, port, name));
      CREATE TABLE runs (client TEXT NOT NULL, run_id INTEGER NOT NULL, summary TEXT,
        PRIMARY KEY (client, run_id));
      INSERT INTO clients VALUES ('scanner1', 'token', 1, 2, 1);
      INSERT INTO clients VALUES ('host-a', 'certificate CN=host-a', 1, 2, 1);
      INSERT INTO batches VALUES ('scanner1', 'b1', '', 1, '{}');
      INSERT INTO batches VALUES ('host-a', 'b1', '', 1, '{}');
      INSERT INTO sightings VALUES ('scanner1', 'aa', '127.0.0.1', 443, '', '', '', 1, 2, '[]', '[]');
      INSERT INTO sightings VALUES ('host-a', 'aa', '127.0.0.2', 443, '', '', '', 1, 2, '[]', '[]');
      INSERT INTO runs VALUES ('scanner1', 7, '{}');
      PRAGMA user_version = 1;
    )sql", path).ok());
  }
  absl::StatusOr<std::unique_ptr<ClmStore>> store = ClmStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<nlohmann::json> clients = (*store)->Clients("");
  ASSERT_TRUE(clients.ok()) << clients.status();
  std::map<std::string, std::string> identity;
  std::map<std::string, int> runs;
  for (const auto& c : *clients) {
    identity[c["name"]] = c["identity"];
    runs[c["name"]] = c["runs"];
  }
  EXPECT_EQ(identity, (std::map<std::string, std::string>{{"token:scanner1", "token"},
                                                          {"cert:host-a", "certificate"}}));
  // The run moved with its client (and into the table keyed by host).
  EXPECT_EQ(runs, (std::map<std::string, int>{{"token:scanner1", 1}, {"cert:host-a", 0}}));
  absl::StatusOr<nlohmann::json> mine = (*store)->Inventory("cert:host-a");
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ((*mine)["sightings"].size(), 1u);
  EXPECT_EQ((*mine)["sightings"][0]["ip"], "127.0.0.2");
  // The batch ids moved with their clients: b1 again is a duplicate.
  absl::StatusOr<nlohmann::json> again =
      (*store)->StoreBatch("token:scanner1", {{"batch_id", "b1"}});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)["duplicate"].get<bool>());
  store->reset();
  // Opening again does not migrate twice.
  store = ClmStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  clients = (*store)->Clients("token:scanner1");
  ASSERT_TRUE(clients.ok());
  ASSERT_EQ(clients->size(), 1u);
}

TEST(ClmStoreTest, TokenAndCertificateClientsOfOneNameAreApart) {
  const std::string path = TempPath("clm-apart.db");
  absl::StatusOr<std::unique_ptr<ClmStore>> store = ClmStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Touch("token:scanner", "token").ok());
  ASSERT_TRUE((*store)->Touch("cert:scanner", "certificate").ok());
  const std::string der = "not a certificate, only bytes to hash";
  ASSERT_TRUE((*store)->StoreBatch("token:scanner", Batch("same-id", der, 443)).ok());
  absl::StatusOr<nlohmann::json> other =
      (*store)->StoreBatch("cert:scanner", Batch("same-id", der, 444));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE((*other)["duplicate"].get<bool>());
  absl::StatusOr<nlohmann::json> token_view = (*store)->Inventory("token:scanner");
  ASSERT_TRUE(token_view.ok());
  ASSERT_EQ((*token_view)["sightings"].size(), 1u);
  EXPECT_EQ((*token_view)["sightings"][0]["port"], 443);
  absl::StatusOr<nlohmann::json> all = (*store)->Clients("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  // A conflicting body under a used id is refused, the stored one kept.
  absl::StatusOr<nlohmann::json> conflict =
      (*store)->StoreBatch("token:scanner", Batch("same-id", der, 445));
  EXPECT_TRUE(absl::IsAlreadyExists(conflict.status())) << conflict.status();
  // A hash that is not the DER's is refused.
  nlohmann::json planted = Batch("planted", der, 443);
  planted["certificates"][0]["sha256"] = std::string(64, '0');
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*store)->StoreBatch("token:scanner", planted).status()));
}

// The pods of a sharded sweep share a credential and each numbers its
// runs from 1: their runs are kept apart by host, and a later batch of
// the same run replaces that run's summary only.
TEST(ClmStoreTest, RunsOfOneClientOnSeveralHostsAreKeptApart) {
  const std::string path = TempPath("clm-shards.db");
  absl::StatusOr<std::unique_ptr<ClmStore>> store = ClmStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Touch("token:pods", "token").ok());
  const std::string der = "shard bytes";
  for (int pod = 0; pod < 3; ++pod) {
    for (int batch = 0; batch < 2; ++batch) {
      nlohmann::json b = Batch("pod" + std::to_string(pod) + "-" + std::to_string(batch), der,
                               443 + pod);
      b["client"] = {{"host", "ers-scan-" + std::to_string(pod)}};
      b["run"] = {{"id", 1}, {"shard", std::to_string(pod + 1) + "/3"}};
      ASSERT_TRUE((*store)->StoreBatch("token:pods", b).ok());
    }
  }
  absl::StatusOr<nlohmann::json> clients = (*store)->Clients("token:pods");
  ASSERT_TRUE(clients.ok()) << clients.status();
  ASSERT_EQ(clients->size(), 1u);
  EXPECT_EQ((*clients)[0]["runs"], 3);
  EXPECT_EQ((*clients)[0]["sightings"], 3);
}

TEST(ClmStoreTest, RetriesAreRecognisedByTheirBytesAndByOlderHashes) {
  const std::string path = TempPath("clm-retry.db");
  absl::StatusOr<std::unique_ptr<ClmStore>> store = ClmStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string der = "bytes";
  const nlohmann::json batch = Batch("b", der, 443);
  const std::string body = batch.dump(2);  // not the compact form
  ASSERT_TRUE((*store)->StoreBatch("token:a", batch, body).ok());
  absl::StatusOr<nlohmann::json> retry = (*store)->StoreBatch("token:a", batch, body);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE((*retry)["duplicate"].get<bool>());
  // A batch stored by an older server (hash of the compact JSON) retried
  // with its bytes is the same batch.
  const nlohmann::json old = Batch("old", der, 444);
  ASSERT_TRUE((*store)->StoreBatch("token:a", old).ok());
  retry = (*store)->StoreBatch("token:a", old, old.dump(1));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE((*retry)["duplicate"].get<bool>());
  // Other bytes that are another batch: 409.
  const nlohmann::json other = Batch("b", der, 445);
  EXPECT_TRUE(absl::IsAlreadyExists(
      (*store)->StoreBatch("token:a", other, other.dump()).status()));
}

}  // namespace
}  // namespace ers

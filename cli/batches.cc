#include "cli/batches.h"

#include <unistd.h>

#include <set>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/encoding.h"

namespace ers {

std::string NewBatchId() { return RandomHex(16); }

absl::StatusOr<std::vector<Batch>> BuildRunBatches(Inventory& inventory, int64_t run_id,
                                                   size_t sightings_per_batch) {
  absl::StatusOr<std::vector<RunInfo>> runs = inventory.Runs(1000000);
  if (!runs.ok()) return runs.status();
  nlohmann::json run = {{"id", run_id}};
  for (const RunInfo& r : *runs) {
    if (r.id != run_id) continue;
    run = {{"id", r.id},         {"started", r.started_unix},
           {"finished", r.finished_unix}, {"status", r.status},
           {"targets", r.targets}, {"results", r.results},
           {"tls", r.tls},       {"duration_s", r.duration_s}};
  }
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  absl::StatusOr<Stmt> q = Prepare(
      inventory.db(),
      "SELECT e.leaf_sha256, e.chain, e.ip, e.port, e.name, e.sni, e.tls_version, "
      "e.findings, coalesce(s.first_seen, e.seen), coalesce(s.last_seen, e.seen) "
      "FROM endpoint_results e LEFT JOIN sightings s ON s.cert_sha256 = e.leaf_sha256 "
      "AND s.ip = e.ip AND s.port = e.port AND s.name = e.name "
      "WHERE e.run_id = ?1 ORDER BY e.ip, e.port, e.name");
  if (!q.ok()) return q.status();
  BindInt(q->get(), 1, run_id);
  std::vector<Batch> batches;
  nlohmann::json sightings = nlohmann::json::array();
  std::set<std::string> certs;
  // flush ends a batch; |always| sends one even without sightings, so the
  // CLM learns of every run.
  auto flush = [&](bool always) -> absl::Status {
    if (sightings.empty() && !always) return absl::OkStatus();
    nlohmann::json certificates = nlohmann::json::array();
    for (const std::string& sha : certs) {
      absl::StatusOr<Stmt> c =
          Prepare(inventory.db(), "SELECT der FROM certificates WHERE sha256 = ?1");
      if (!c.ok()) return c.status();
      BindText(c->get(), 1, sha);
      if (sqlite3_step(c->get()) == SQLITE_ROW) {
        certificates.push_back(
            {{"sha256", sha}, {"der", Base64Encode(ColumnBlob(c->get(), 0))}});
      }
    }
    Batch b;
    b.id = NewBatchId();
    nlohmann::json body = {{"batch_id", b.id},
                           {"client", {{"software", "ers 0.1.0"}, {"host", host}}},
                           {"run", run},
                           {"certificates", std::move(certificates)},
                           {"sightings", std::move(sightings)}};
    b.body = body.dump();
    batches.push_back(std::move(b));
    sightings = nlohmann::json::array();
    certs.clear();
    return absl::OkStatus();
  };
  sqlite3_stmt* st = q->get();
  while (sqlite3_step(st) == SQLITE_ROW) {
    nlohmann::json chain = nlohmann::json::parse(ColumnText(st, 1), nullptr, false);
    if (chain.is_array()) {
      for (const auto& sha : chain) certs.insert(sha.get<std::string>());
    }
    sightings.push_back({{"sha256", ColumnText(st, 0)},
                         {"chain", chain.is_array() ? chain : nlohmann::json::array()},
                         {"ip", ColumnText(st, 2)},
                         {"port", sqlite3_column_int(st, 3)},
                         {"name", ColumnText(st, 4)},
                         {"sni", ColumnText(st, 5)},
                         {"tls_version", ColumnText(st, 6)},
                         {"findings", nlohmann::json::parse(ColumnText(st, 7), nullptr, false)},
                         {"first_seen", sqlite3_column_int64(st, 8)},
                         {"last_seen", sqlite3_column_int64(st, 9)}});
    if (sightings.size() >= sightings_per_batch) {
      if (absl::Status s = flush(false); !s.ok()) return s;
    }
  }
  if (absl::Status s = flush(batches.empty()); !s.ok()) return s;
  return batches;
}

}  // namespace ers

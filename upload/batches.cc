#include "upload/batches.h"

#include <unistd.h>

#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "base/version.h"

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
    // Which part of a sharded sweep this run was (machines of one sweep
    // share its seed), for a CLM that gathers the shards.
    nlohmann::json options = nlohmann::json::parse(r.options, nullptr, false);
    if (options.is_object()) {
      for (const char* key : {"seed", "shard"}) {
        if (options.contains(key)) run[key] = options[key];
      }
    }
  }
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::vector<Batch> batches;
  nlohmann::json sightings = nlohmann::json::array();
  std::set<std::string> certs;
  // flush ends a batch; |always| sends one even without sightings, so the
  // CLM learns of every run.
  auto flush = [&](bool always) -> absl::Status {
    if (sightings.empty() && !always) return absl::OkStatus();
    nlohmann::json certificates = nlohmann::json::array();
    for (const std::string& sha : certs) {
      absl::StatusOr<std::string> der = CertificateDer(inventory, sha);
      if (!der.ok()) return der.status();
      if (!der->empty()) certificates.push_back({{"sha256", sha}, {"der", Base64Encode(*der)}});
    }
    Batch b;
    b.id = NewBatchId();
    nlohmann::json body = {{"batch_id", b.id},
                           {"client", {{"software", absl::StrCat("ers ", kVersion)}, {"host", host}}},
                           {"run", run},
                           {"certificates", std::move(certificates)},
                           {"sightings", std::move(sightings)}};
    b.body = body.dump();
    batches.push_back(std::move(b));
    sightings = nlohmann::json::array();
    certs.clear();
    return absl::OkStatus();
  };
  absl::Status flushed;
  absl::Status listed = ForEachEndpoint(inventory, run_id, [&](const EndpointRow& e) {
    if (!flushed.ok()) return;
    for (const std::string& sha : e.chain_sha256) certs.insert(sha);
    nlohmann::json findings = nlohmann::json::parse(e.findings_json, nullptr, false);
    sightings.push_back({{"sha256", e.leaf_sha256},
                         {"chain", e.chain_sha256},
                         {"ip", e.endpoint.ip},
                         {"port", e.endpoint.port},
                         {"name", e.endpoint.name},
                         {"sni", e.sni},
                         {"tls_version", e.tls_version},
                         {"findings", findings},
                         {"first_seen", e.first_seen},
                         {"last_seen", e.last_seen}});
    if (sightings.size() >= sightings_per_batch) flushed = flush(false);
  });
  if (!listed.ok()) return listed;
  if (!flushed.ok()) return flushed;
  if (absl::Status s = flush(batches.empty()); !s.ok()) return s;
  return batches;
}

}  // namespace ers

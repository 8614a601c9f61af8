// sweep_plan.h: everything a sweep needs before it sends a packet, built
// from SweepOptions once: the target space, probe and engine options, trust
// store and policy, the number of workers and their resume positions.
#ifndef ERS_SWEEP_SWEEP_PLAN_H_
#define ERS_SWEEP_SWEEP_PLAN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aia/issuer_fetcher.h"
#include "ers/sweep.h"
#include "scanner/domain_targets.h"
#include "scanner/engine.h"
#include "scanner/target_space.h"
#include "scanner/target_walker.h"
#include "tlsprobe/client_context.h"
#include "x509/findings.h"
#include "x509/trust_store.h"

namespace ers {

struct SweepPlan {
  std::unique_ptr<TargetSpace> space;
  uint64_t seed = 0;
  Shard shard;
  ProbeOptions probe;
  EngineOptions engine;  // engine.concurrency is the total over workers
  uint32_t workers = 1;
  uint64_t file_limit = 0;
  // start_positions: where each worker's walk starts (0, or a resume point).
  std::vector<uint64_t> start_positions;
  bool analyse = true;
  std::unique_ptr<TrustStore> trust;
  std::unique_ptr<IssuerFetcher> aia;  // null: nothing fetched
  bool aia_complete = false;           // complete chains through AIA
  bool revocation_ocsp = false;        // ask OCSP responders
  bool revocation_crl = false;         // fetch CRLs
  Policy policy;
  uint32_t analysis_threads = 1;
  std::vector<std::string> warnings;
  DomainExpansion domains;  // what options.domains expanded to

  // WorkerShard is the sub-shard walked by |worker| (0-based).
  Shard WorkerShard(uint32_t worker) const {
    return {shard.index + shard.count * worker, shard.count * workers};
  }
};

// BuildTargetSpace parses the targets, ports and exclusions of |options|.
[[nodiscard]] absl::StatusOr<TargetSpace> BuildTargetSpace(
    const SweepOptions& options);

// ExpandDomainsInto replaces |options->domains| with what they announce
// (scanner/domain_targets.h): a target group per host found, and STARTTLS
// entries for announced ports the table does not already upgrade the same
// way (the caller's own entries win). |expansion| receives the targets and
// the resolution problems worth a warning.
[[nodiscard]] absl::Status ExpandDomainsInto(SweepOptions* options, DomainExpansion* expansion);

// DnsOptionsFor returns the DNS options of |options| (its --resolver), or
// nullopt for the system's getaddrinfo.
[[nodiscard]] absl::StatusOr<std::optional<DnsOptions>> DnsOptionsFor(const SweepOptions& options);

// BuildSweepPlan checks |options| and builds the plan (see Sweep::Create for
// the errors).
[[nodiscard]] absl::StatusOr<SweepPlan> BuildSweepPlan(
    const SweepOptions& options);

}  // namespace ers

#endif  // ERS_SWEEP_SWEEP_PLAN_H_

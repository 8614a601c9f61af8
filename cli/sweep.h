// sweep.h: runs a sweep for `ers scan`. It sizes the open-file limit and,
// when one process cannot hold the connections asked for (or --workers asks
// for more), splits the scan over worker processes, one event loop each,
// every worker sweeping a sub-shard. Results reach |out| as whole JSON
// lines; SIGINT and SIGTERM stop every worker cleanly, and the summary
// carries one resume point per worker.
#ifndef ERS_CLI_SWEEP_H_
#define ERS_CLI_SWEEP_H_

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scanner/engine.h"
#include "scanner/target_walker.h"
#include "tlsprobe/client_context.h"
#include "x509/findings.h"
#include "x509/trust_store.h"

namespace ers {

struct SweepRequest {
  const TargetSpace* space = nullptr;
  uint64_t seed = 0;
  Shard shard;
  ProbeOptions probe;
  EngineOptions engine;  // engine.concurrency is the total over workers
  uint32_t workers = 0;  // 0: as many as the open-file limit requires
  // resume_points, if not empty, continue an interrupted sweep: one record
  // per worker, as returned in SweepSummary::resume_points.
  std::vector<std::string> resume_points;
  // When |trust| and |policy| are set, every TLS result's chain is analysed
  // (x509/) and the analysis is written with the result.
  const TrustStore* trust = nullptr;
  const Policy* policy = nullptr;
  // resume_provider, when not null, is set for the duration of a
  // single-loop sweep to a function returning the current resume point
  // (callable from the sink); the caller checkpoints with it.
  std::function<std::string()>* resume_provider = nullptr;
};

struct SweepSummary {
  EngineStats stats;  // summed over workers
  bool interrupted = false;
  // sink_failed: the sink refused a line and the sweep stopped there; the
  // resume points continue from the first line not recorded.
  bool sink_failed = false;
  std::vector<std::string> resume_points;  // one per worker, when interrupted
  uint64_t remaining = 0;  // targets not yet done, when interrupted
  double elapsed_s = 0;
  uint32_t workers = 1;
  uint32_t concurrency = 0;  // total over workers
  uint64_t file_limit = 0;
  std::vector<std::string> tls_endpoints;  // the first few, for people
  // findings counts endpoints per finding identifier.
  std::map<std::string, uint64_t> findings;
};

inline constexpr size_t kListedEndpoints = 20;

// LineSink receives each result as one JSON line (ending in '\n'), always
// in the calling process; it returns false when the line could not be
// recorded, which stops the sweep.
using LineSink = std::function<bool(const std::string& line)>;

// RunSweep runs |request|, handing one JSON line per result to |sink|. It
// fails on setup errors, on a worker that dies, and when |sink| fails
// (kDataLoss: results would be lost; the resume point is still returned
// through the sink's own bookkeeping).
[[nodiscard]] absl::StatusOr<SweepSummary> RunSweep(const SweepRequest& request,
                                                    const LineSink& sink);

// FormatSummary renders |summary| for people.
std::string FormatSummary(const SweepSummary& summary);

}  // namespace ers

#endif  // ERS_CLI_SWEEP_H_

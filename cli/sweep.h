// sweep.h: runs a sweep for `ers scan`: sizes the file limit, builds the
// client context and engine, writes JSON Lines, stops cleanly on SIGINT or
// SIGTERM and reports where to resume.
#ifndef ERS_CLI_SWEEP_H_
#define ERS_CLI_SWEEP_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scanner/engine.h"
#include "scanner/target_walker.h"
#include "tlsprobe/client_context.h"

namespace ers {

struct SweepSummary {
  EngineStats stats;
  bool interrupted = false;
  uint64_t resume_position = 0;
  double elapsed_s = 0;
  uint32_t concurrency = 0;
  uint64_t file_limit = 0;
  // The first kListedEndpoints TLS endpoints, one line each, for people.
  std::vector<std::string> tls_endpoints;
};

inline constexpr size_t kListedEndpoints = 20;

// RunSweep sweeps |walker| with |probe_options| and |engine_options|,
// writing one JSON line per result to |out|. It fails on setup errors and
// when |out| cannot be written (kDataLoss: the results would be lost).
[[nodiscard]] absl::StatusOr<SweepSummary> RunSweep(
    const TargetSpace& space, TargetWalker& walker,
    const ProbeOptions& probe_options, EngineOptions engine_options,
    FILE* out);

// FormatSummary renders |summary| for people.
std::string FormatSummary(const SweepSummary& summary);

}  // namespace ers

#endif  // ERS_CLI_SWEEP_H_

// scan_plan.h: turns the discover configuration and the exclusion file into
// the TargetSpace that a scan walks.
#ifndef ERS_CLI_SCAN_PLAN_H_
#define ERS_CLI_SCAN_PLAN_H_

#include <vector>

#include "absl/status/statusor.h"
#include "cli/config_store.h"
#include "scanner/prefix_set.h"
#include "scanner/target_space.h"

namespace ers {

// BuildTargetSpace parses every configured entry and merges them, minus
// |exclusions|. A stored entry that no longer parses is kDataLoss naming it.
[[nodiscard]] absl::StatusOr<TargetSpace> BuildTargetSpace(
    const std::vector<DiscoverEntry>& entries, PrefixSet exclusions);

}  // namespace ers

#endif  // ERS_CLI_SCAN_PLAN_H_

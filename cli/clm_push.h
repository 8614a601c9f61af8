// clm_push.h: the push that follows a scan, shared by ers scan.
#ifndef ERS_CLI_CLM_PUSH_H_
#define ERS_CLI_CLM_PUSH_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "cli/commands.h"
#include "inventory/inventory.h"
#include "upload/uploader.h"

namespace ers {

// SpoolAndPush spools the batches of |run_id| and sends everything spooled,
// when a CLM is configured for the inventory at |db_path| (else it does
// nothing). It returns an exit code: kExitOk, kExitPartial (left spooled,
// to retry) or kExitUsage (needs fixing); |*pushed_all| says whether the
// spool is now empty.
int SpoolAndPush(const std::string& db_path, Inventory& inventory, int64_t run_id,
                 const PushOptions& options, const Streams& io, bool* pushed_all);

// ParsePushFlags reads --max-attempts, --retry-base and --timeout.
[[nodiscard]] absl::Status ParsePushFlags(const std::optional<std::string>& attempts,
                                          const std::optional<std::string>& retry_base,
                                          const std::optional<std::string>& timeout,
                                          PushOptions* options);

}  // namespace ers

#endif  // ERS_CLI_CLM_PUSH_H_

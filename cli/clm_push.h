// clm_push.h: the push that follows a scan, shared by ers scan.
#ifndef ERS_CLI_CLM_PUSH_H_
#define ERS_CLI_CLM_PUSH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/flags.h"
#include "cli/commands.h"
#include "inventory/inventory.h"
#include "upload/uploader.h"

namespace ers {

// SpoolAndPush spools the batches of every run not spooled yet (the run just
// finished, and any earlier run killed or stopped before its batches were
// spooled), calls |spooled| (the caller releases the scan lock there: the
// push may take a while and needs no lock), and sends what is spooled once,
// within |options.deadline|, when a CLM is configured for the inventory at
// |db_path| (else it only calls |spooled|). On a terminal it shows the
// batches as they go. It returns an exit code: kExitOk, kExitPartial (left
// spooled, to retry; one line says so) or kExitUsage (needs fixing);
// |*pushed_all| says whether the spool is now empty.
int SpoolAndPush(const std::string& db_path, Inventory& inventory, const PushOptions& options,
                 uint64_t spool_max_bytes, const Streams& io, bool* pushed_all,
                 const std::function<void()>& spooled);

// PushFlags are --max-attempts, --retry-base, --timeout and
// --spool-max-bytes, typed.
struct PushFlags {
  std::optional<uint64_t> attempts;
  std::optional<absl::Duration> retry_base;
  std::optional<absl::Duration> timeout;
  std::optional<uint64_t> spool_max_bytes;
  uint64_t SpoolMaxBytes() const { return spool_max_bytes.value_or(kDefaultSpoolMaxBytes); }
};
// AddPushFlags declares them; ApplyPushFlags sets the ones given.
void AddPushFlags(FlagSet& flags, PushFlags* values);
void ApplyPushFlags(const PushFlags& values, PushOptions* options);

}  // namespace ers

#endif  // ERS_CLI_CLM_PUSH_H_

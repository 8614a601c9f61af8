// scan_run.h: one sweep recorded in the inventory, from start to end. Begin
// records the run as running (runs left running by killed processes become
// "killed"); its sink stores the records and commits each checkpoint's
// resume point with them; Finish records how the sweep ended, keeps the
// resume point of a sweep that stopped early and clears it for one that
// finished. The run lifecycle of `ers scan`, for any embedder that keeps an
// inventory.
#ifndef ERS_INVENTORY_SCAN_RUN_H_
#define ERS_INVENTORY_SCAN_RUN_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ers/sweep.h"
#include "inventory/inventory.h"

namespace ers {

class ScanRun {
 public:
  // Begin records a new run of |kind| with |options_json| (what the run
  // was asked to do) in |inventory|, which must outlive the ScanRun; its
  // batches go to the CLM when |for_clm|. The caller holds the inventory's
  // scan lock.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ScanRun>> Begin(
      Inventory* inventory, absl::string_view options_json,
      RunKind kind = RunKind::kConfigured, bool for_clm = true);

  int64_t id() const { return id_; }
  // sink stores the sweep's records in this run (InventorySink).
  Sink* sink() { return &sink_; }

  // Finish records the end: "failed" when |run_status| (what Sweep::Run
  // returned) is an error, "interrupted" when the sweep stopped early,
  // "done" otherwise. A sweep with targets left keeps |resume_point| for
  // ers scan --resume; with none left (an empty |resume_point|) it is
  // cleared.
  [[nodiscard]] absl::Status Finish(const SweepSummary& summary,
                                    const absl::Status& run_status,
                                    const std::string& resume_point);

 private:
  ScanRun(Inventory* inventory, int64_t id)
      : inventory_(inventory), id_(id), sink_(inventory, id) {}

  Inventory* inventory_;
  int64_t id_;
  InventorySink sink_;
};

}  // namespace ers

#endif  // ERS_INVENTORY_SCAN_RUN_H_

#include "inventory/scan_run.h"

namespace ers {

absl::StatusOr<std::unique_ptr<ScanRun>> ScanRun::Begin(Inventory* inventory,
                                                        absl::string_view options_json,
                                                        RunKind kind, bool for_clm) {
  absl::StatusOr<int64_t> id = inventory->BeginRun(options_json, kind, for_clm);
  if (!id.ok()) return id.status();
  return std::unique_ptr<ScanRun>(new ScanRun(inventory, *id));
}

absl::Status ScanRun::Finish(const SweepSummary& summary, const absl::Status& run_status,
                             const std::string& resume_point) {
  const bool stopped = summary.interrupted || !run_status.ok() || !resume_point.empty();
  absl::Status finished = inventory_->FinishRun(
      id_, !run_status.ok() ? "failed" : stopped ? "interrupted" : "done",
      summary.targets_walked, summary.elapsed_s, run_status.message());
  // The resume point goes in even when recording the end failed: it is what
  // a rerun needs most.
  // A sweep stopped after its last target has nothing to resume.
  absl::Status resume = !resume_point.empty() ? inventory_->Commit(resume_point)
                                              : inventory_->ClearResumePoint();
  return finished.ok() ? resume : finished;
}

}  // namespace ers

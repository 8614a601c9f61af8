// batches.h: turns one scan run of the inventory into upload batches for
// the CLM: each carries certificates once (DER, keyed by SHA-256) and small
// sighting records (certificate, address, port, name, SNI, TLS version,
// first and last seen, findings), plus the run's summary and a fresh batch
// id that serves as its idempotency key.
#ifndef ERS_UPLOAD_BATCHES_H_
#define ERS_UPLOAD_BATCHES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "inventory/inventory.h"
#include "inventory/queries.h"

namespace ers {

struct Batch {
  std::string id;
  std::string body;  // JSON
};

// kSightingsPerBatch keeps a batch well under the server's size limit.
inline constexpr size_t kSightingsPerBatch = 500;

[[nodiscard]] absl::StatusOr<std::vector<Batch>> BuildRunBatches(
    Inventory& inventory, int64_t run_id, size_t sightings_per_batch = kSightingsPerBatch);

// NewBatchId returns 128 random bits in hex.
std::string NewBatchId();

}  // namespace ers

#endif  // ERS_UPLOAD_BATCHES_H_

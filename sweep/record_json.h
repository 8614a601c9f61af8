// record_json.h: the JSON Lines encoding of scan records, one object per
// line, versioned by "schema_version". The schema is documented in
// docs/result-schema.md; fields are only ever added within a version.
#ifndef ERS_SWEEP_RECORD_JSON_H_
#define ERS_SWEEP_RECORD_JSON_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ers/record.h"

namespace ers {

inline constexpr int kResultSchemaVersion = 1;

// RecordToJson (declared in include/ers/record.h) is implemented here.

// ChainArrayJson renders a chain as the schema's "chain" member value: a
// JSON array of base64 DER strings.
std::string ChainArrayJson(const std::vector<std::string>& ders);

// AppendRecordJson appends |record| as RecordToJson renders it to |out|,
// with |chain_array_json| (ChainArrayJson of record.result.chain) as its
// "chain".
void AppendRecordJson(const ScanRecord& record, absl::string_view chain_array_json,
                      std::string* out);

// RecordJsonWriter renders records as RecordToJson does, rendering each
// chain's "chain" array once: records that share a ChainInfo share its text.
// It keeps up to kMaxChains recent ChainInfos alive. Not thread-safe.
class RecordJsonWriter {
 public:
  static constexpr size_t kMaxChains = 1024;
  void Append(const ScanRecord& record, std::string* out);

 private:
  struct Entry {
    std::shared_ptr<const ChainInfo> chain;  // keeps the key's address taken
    std::string text;
  };
  absl::flat_hash_map<const ChainInfo*, Entry> chains_;
};

// RecordFromJson decodes one line written by RecordToJson (ers import): the
// chain's certificates are parsed again here, and its trust and findings are
// taken from the line's "analysis". Lines that do not follow the schema are
// kInvalidArgument saying why; numbers out of range are refused.
[[nodiscard]] absl::StatusOr<ScanRecord> RecordFromJson(absl::string_view line);

// OutcomeFromName is the inverse of OutcomeName.
[[nodiscard]] bool OutcomeFromName(absl::string_view name, Outcome* out);

}  // namespace ers

#endif  // ERS_SWEEP_RECORD_JSON_H_

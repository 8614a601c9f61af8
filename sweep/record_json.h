// record_json.h: the JSON Lines encoding of scan records, one object per
// line, versioned by "schema_version". The schema is documented in
// docs/result-schema.md; fields are only ever added within a version.
#ifndef ERS_SWEEP_RECORD_JSON_H_
#define ERS_SWEEP_RECORD_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ers/record.h"

namespace ers {

inline constexpr int kResultSchemaVersion = 1;

// RecordToJson (declared in include/ers/record.h) is implemented here.

// RecordFromJson decodes one line written by RecordToJson (ers import): the
// chain's certificates are parsed again here, and its trust and findings are
// taken from the line's "analysis". Lines that do not follow the schema are
// kInvalidArgument saying why; numbers out of range are refused.
[[nodiscard]] absl::StatusOr<ScanRecord> RecordFromJson(absl::string_view line);

// OutcomeFromName is the inverse of OutcomeName.
[[nodiscard]] bool OutcomeFromName(absl::string_view name, Outcome* out);

}  // namespace ers

#endif  // ERS_SWEEP_RECORD_JSON_H_

// result_json.h: the JSON Lines encoding of probe results, one object per
// line, versioned by "schema_version". The schema is documented in
// docs/result-schema.md; fields are only ever added within a version.
#ifndef ERS_SCANNER_RESULT_JSON_H_
#define ERS_SCANNER_RESULT_JSON_H_

#include <string>

#include <nlohmann/json.hpp>

#include "ers/record.h"
#include "x509/findings.h"

namespace ers {

inline constexpr int kResultSchemaVersion = 1;

// ResultToJson returns |result| as one line of JSON (no trailing newline),
// with |analysis| of its chain as "analysis" when not null. Binary fields
// (DER certificates, OCSP, SCTs) are base64; strings a server controls are
// escaped, and invalid UTF-8 is replaced, never passed through.
std::string ResultToJson(const ProbeResult& result,
                         const ChainReport* analysis = nullptr);

// ResultToJsonWithAnalysis is ResultToJson with the analysis already in its
// JSON form (ReportToJson), e.g. from a cache of identical chains.
std::string ResultToJsonWithAnalysis(const ProbeResult& result,
                                     const nlohmann::ordered_json& analysis);

}  // namespace ers

#endif  // ERS_SCANNER_RESULT_JSON_H_

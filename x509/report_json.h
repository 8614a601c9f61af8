// report_json.h: the JSON form of a ChainReport, attached to each TLS result
// as "analysis" (see docs/result-schema.md and docs/findings.md).
#ifndef ERS_X509_REPORT_JSON_H_
#define ERS_X509_REPORT_JSON_H_

#include <nlohmann/json.hpp>

#include "x509/findings.h"

namespace ers {

// CertificateToJson describes one parsed certificate.
nlohmann::ordered_json CertificateToJson(const Certificate& c);

// ReportToJson describes the normalized path, what the server did wrong,
// the validation and the findings.
nlohmann::ordered_json ReportToJson(const ChainReport& report);

}  // namespace ers

#endif  // ERS_X509_REPORT_JSON_H_

#include "scanner/result_json.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "absl/time/time.h"
#include "x509/report_json.h"

namespace ers {

namespace {

nlohmann::ordered_json ResultObject(const ProbeResult& r);

std::string Dump(const nlohmann::ordered_json& j) {
  // Server-controlled text (ALPN, names) may be any bytes: replace invalid
  // UTF-8 rather than fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string ResultToJson(const ProbeResult& r, const ChainReport* analysis) {
  nlohmann::ordered_json j = ResultObject(r);
  if (analysis != nullptr) j["analysis"] = ReportToJson(*analysis);
  return Dump(j);
}

std::string ResultToJsonWithAnalysis(const ProbeResult& r,
                                     const nlohmann::ordered_json& analysis) {
  nlohmann::ordered_json j = ResultObject(r);
  j["analysis"] = analysis;
  return Dump(j);
}

namespace {

nlohmann::ordered_json ResultObject(const ProbeResult& r) {
  nlohmann::ordered_json j;
  j["schema_version"] = kResultSchemaVersion;
  j["ip"] = r.address.ToString();
  j["port"] = r.port;
  j["name"] = r.name;
  j["sni"] = r.sni;
  j["outcome"] = OutcomeName(r.outcome);
  j["detail"] = r.detail;
  j["mode"] = ProbeModeName(r.mode);
  j["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                               absl::FromUnixMillis(r.start_unix_ms),
                               absl::UTCTimeZone());
  j["attempts"] = r.attempts;
  j["rung"] = r.rung;
  j["rung_name"] = r.rung_name;
  j["connect_ms"] = r.connect_ms;
  j["handshake_ms"] = r.handshake_ms;
  j["bytes_received"] = r.bytes_received;
  if (r.version != 0) {
    j["tls"] = {
        {"version", r.version_name},
        {"version_code", r.version},
        {"cipher", r.cipher},
        {"group", r.group},
        {"alpn", r.alpn},
        {"peer_signature_algorithm", r.peer_signature_algorithm},
    };
  }
  nlohmann::ordered_json chain = nlohmann::ordered_json::array();
  for (const std::string& der : r.chain) chain.push_back(Base64Encode(der));
  j["chain"] = std::move(chain);
  if (!r.ocsp_response.empty()) j["ocsp_response"] = Base64Encode(r.ocsp_response);
  if (!r.sct_list.empty()) j["sct_list"] = Base64Encode(r.sct_list);
  if (r.alert >= 0) j["alert"] = r.alert;
  if (!r.first_bytes.empty() && r.outcome == Outcome::kNotTls) {
    j["first_bytes_hex"] = HexEncode(r.first_bytes);
  }
  return j;
}

}  // namespace

}  // namespace ers

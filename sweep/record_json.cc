#include "sweep/record_json.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/encoding.h"
#include "base/json_fields.h"
#include "base/ip_address.h"
#include "sweep/chain_analyzer.h"

namespace ers {
namespace {

std::string Dump(const nlohmann::ordered_json& j) {
  // Server-controlled text (ALPN, names) may be any bytes: replace invalid
  // UTF-8 rather than fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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

std::string RecordToJson(const ScanRecord& record) {
  std::string line = Dump(ResultObject(record.result));
  if (record.chain != nullptr && !record.chain->analysis_json.empty()) {
    // The analysis is shared by every record of the chain and rendered
    // once: splice its text in as the last member.
    line.pop_back();  // '}'
    line.append(",\"analysis\":");
    line.append(record.chain->analysis_json);
    line.push_back('}');
  }
  return line;
}

bool OutcomeFromName(absl::string_view name, Outcome* out) {
  for (int i = 0; i <= static_cast<int>(Outcome::kExcluded); ++i) {
    if (name == OutcomeName(static_cast<Outcome>(i))) {
      *out = static_cast<Outcome>(i);
      return true;
    }
  }
  return false;
}

absl::StatusOr<ScanRecord> RecordFromJson(absl::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("result line is not a JSON object");
  }
  ScanRecord record;
  ProbeResult& r = record.result;
  try {
    absl::StatusOr<IpAddress> ip = ParseIpAddress(j.at("ip").get<std::string>());
    if (!ip.ok()) return ip.status();
    r.address = *ip;
    int64_t port = 0;
    if (!JsonInteger(j.at("port"), 1, 65535, &port)) {
      return absl::InvalidArgumentError("port is not a number from 1 to 65535");
    }
    r.port = static_cast<uint16_t>(port);
    r.name = j.value("name", "");
    r.sni = j.value("sni", "");
    if (!OutcomeFromName(j.at("outcome").get<std::string>(), &r.outcome)) {
      return absl::InvalidArgumentError("unknown outcome");
    }
    r.detail = j.value("detail", "");
    r.mode = j.value("mode", "certs") == "full" ? ProbeMode::kFull : ProbeMode::kCerts;
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, j.value("time", ""), &t, &error)) {
      r.start_unix_ms = absl::ToUnixMillis(t);
    }
    if (j.contains("tls") && j["tls"].is_object()) {
      const nlohmann::json& tls = j["tls"];
      r.version_name = tls.value("version", "");
      int64_t code = 0;
      if (JsonIntegerField(tls, "version_code", 0, 0xffff, 0, &code)) {
        r.version = static_cast<uint16_t>(code);
      }
      r.cipher = tls.value("cipher", "");
      r.group = tls.value("group", "");
      r.alpn = tls.value("alpn", "");
      r.peer_signature_algorithm = tls.value("peer_signature_algorithm", "");
    }
    const nlohmann::json chain = j.value("chain", nlohmann::json::array());
    if (!chain.is_array()) return absl::InvalidArgumentError("chain is not an array");
    for (const auto& b64 : chain) {
      std::string der;
      if (!Base64Decode(b64.get<std::string>(), &der)) {
        return absl::InvalidArgumentError("chain entry is not base64");
      }
      r.chain.push_back(std::move(der));
    }
    if (r.outcome == Outcome::kTls) {
      if (r.chain.empty()) return absl::InvalidArgumentError("TLS result without a chain");
      auto info = std::make_shared<ChainInfo>(
          *BuildChainInfo(r.chain, r.sni, r.version, nullptr, nullptr, 0));
      if (j.contains("analysis") && j["analysis"].is_object()) {
        const nlohmann::json& a = j["analysis"];
        info->analysed = true;
        info->trusted = a.value("validation", nlohmann::json::object()).value("trusted", false);
        for (const auto& f : a.value("findings", nlohmann::json::array())) {
          if (!f.is_object()) continue;
          FindingInfo fi;
          fi.id = f.value("id", "");
          fi.severity = f.value("severity", "");
          fi.message = f.value("message", "");
          int64_t n = 0;
          if (JsonIntegerField(f, "cert", -1, 1000, 0, &n)) fi.cert = static_cast<int>(n);
          if (JsonIntegerField(f, "days_left", -1000000, 1000000, 0, &n)) fi.days_left = n;
          info->findings.push_back(std::move(fi));
        }
        info->analysis_json = a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      record.chain = std::move(info);
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("result line does not follow the schema: ", e.what()));
  }
  return record;
}

}  // namespace ers

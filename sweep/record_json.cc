#include "sweep/record_json.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/encoding.h"
#include "base/json_fields.h"
#include "base/ip_address.h"
#include "sweep/chain_analyzer.h"
#include "tlsprobe/starttls.h"

namespace ers {
namespace {

std::string Dump(const nlohmann::ordered_json& j) {
  // Server-controlled text (ALPN, names) may be any bytes: replace invalid
  // UTF-8 rather than fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// HeadObject holds the members that come before "chain".
nlohmann::ordered_json HeadObject(const ProbeResult& r) {
  nlohmann::ordered_json j;
  j["schema_version"] = kResultSchemaVersion;
  j["ip"] = r.address.ToString();
  j["port"] = r.port;
  j["name"] = r.name;
  j["sni"] = r.sni;
  j["outcome"] = OutcomeName(r.outcome);
  j["detail"] = r.detail;
  j["mode"] = ProbeModeName(r.mode);
  if (r.starttls != Starttls::kNone) j["starttls"] = StarttlsName(r.starttls);
  if (r.sni_source != SniSource::kNone) {
    j["sni_source"] = SniSourceName(r.sni_source);
    j["differs_from_default"] = r.differs_from_default;
  }
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
  return j;
}

// TailObject holds the optional members after "chain".
nlohmann::ordered_json TailObject(const ProbeResult& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!r.ocsp_response.empty()) j["ocsp_response"] = Base64Encode(r.ocsp_response);
  if (!r.sct_list.empty()) j["sct_list"] = Base64Encode(r.sct_list);
  if (r.alert >= 0) j["alert"] = r.alert;
  if (!r.first_bytes.empty() && r.outcome == Outcome::kNotTls) {
    j["first_bytes_hex"] = HexEncode(r.first_bytes);
  }
  if (!r.banner.empty()) j["banner"] = r.banner;
  return j;
}

// AppendMembers appends the members of the dumped object |object_text|
// ("{...}") to |out|, which holds an object's text without its closing
// brace and at least one member.
void AppendMembers(const std::string& object_text, std::string* out) {
  if (object_text.size() <= 2) return;  // "{}"
  out->push_back(',');
  out->append(object_text, 1, object_text.size() - 2);
}

}  // namespace

std::string ChainArrayJson(const std::vector<std::string>& ders) {
  // Base64 needs no escaping: the array is assembled directly.
  std::string out = "[";
  for (size_t i = 0; i < ders.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    out.append(Base64Encode(ders[i]));
    out.push_back('"');
  }
  out.push_back(']');
  return out;
}

void AppendRecordJson(const ScanRecord& record, absl::string_view chain_array_json,
                      std::string* out) {
  const ProbeResult& r = record.result;
  out->append(Dump(HeadObject(r)));
  out->pop_back();  // '}'
  out->append(",\"chain\":");
  out->append(chain_array_json.data(), chain_array_json.size());
  AppendMembers(Dump(TailObject(r)), out);
  if (record.chain != nullptr && !record.chain->analysis_json.empty()) {
    // The analysis is shared by every record of the chain and rendered
    // once: spliced in as the last member.
    out->append(",\"analysis\":");
    out->append(record.chain->analysis_json);
  }
  out->push_back('}');
}

std::string RecordToJson(const ScanRecord& record) {
  std::string line;
  AppendRecordJson(record, ChainArrayJson(record.result.chain), &line);
  return line;
}

void RecordJsonWriter::Append(const ScanRecord& record, std::string* out) {
  const ChainInfo* key = record.chain.get();
  if (key == nullptr || record.result.chain.empty()) {
    AppendRecordJson(record, ChainArrayJson(record.result.chain), out);
    return;
  }
  auto it = chains_.find(key);
  if (it == chains_.end()) {
    if (chains_.size() >= kMaxChains) chains_.clear();
    it = chains_.emplace(key, Entry{record.chain, ChainArrayJson(record.result.chain)}).first;
  }
  AppendRecordJson(record, it->second.text, out);
}

bool OutcomeFromName(absl::string_view name, Outcome* out) {
  for (int i = 0; i < static_cast<int>(Outcome::kNoResources); ++i) {
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
    if (!j.contains("ip") || !j["ip"].is_string()) {
      return absl::InvalidArgumentError("\"ip\" is missing or not a string");
    }
    absl::StatusOr<IpAddress> ip = ParseIpAddress(j["ip"].get<std::string>());
    if (!ip.ok()) return ip.status();
    r.address = *ip;
    int64_t port = 0;
    if (!j.contains("port") || !JsonInteger(j["port"], 1, 65535, &port)) {
      return absl::InvalidArgumentError("port is not a number from 1 to 65535");
    }
    r.port = static_cast<uint16_t>(port);
    r.name = JsonString(j, "name");
    r.sni = JsonString(j, "sni");
    if (!OutcomeFromName(JsonString(j, "outcome"), &r.outcome)) {
      return absl::InvalidArgumentError("unknown outcome");
    }
    r.detail = JsonString(j, "detail");
    r.mode = JsonString(j, "mode") == "full" ? ProbeMode::kFull : ProbeMode::kCerts;
    if (j.contains("starttls")) {
      absl::StatusOr<Starttls> starttls = ParseStarttls(JsonString(j, "starttls"));
      if (!starttls.ok()) return starttls.status();
      r.starttls = *starttls;
    }
    r.banner = PrintableLine(JsonString(j, "banner"));
    if (j.contains("sni_source")) {
      const std::string source = JsonString(j, "sni_source");
      for (int i = 1; i < kNumSniSources; ++i) {
        if (source == SniSourceName(static_cast<SniSource>(i))) {
          r.sni_source = static_cast<SniSource>(i);
        }
      }
      if (r.sni_source == SniSource::kNone) {
        return absl::InvalidArgumentError("unknown sni_source");
      }
      const auto differs = j.find("differs_from_default");
      r.differs_from_default =
          differs != j.end() && differs->is_boolean() && differs->get<bool>();
    }
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, JsonString(j, "time"), &t, &error)) {
      r.start_unix_ms = absl::ToUnixMillis(t);
    }
    if (j.contains("tls") && j["tls"].is_object()) {
      const nlohmann::json& tls = j["tls"];
      r.version_name = JsonString(tls, "version");
      int64_t code = 0;
      if (JsonIntegerField(tls, "version_code", 0, 0xffff, 0, &code)) {
        r.version = static_cast<uint16_t>(code);
      }
      r.cipher = JsonString(tls, "cipher");
      r.group = JsonString(tls, "group");
      r.alpn = JsonString(tls, "alpn");
      r.peer_signature_algorithm = JsonString(tls, "peer_signature_algorithm");
    }
    const nlohmann::json chain = j.value("chain", nlohmann::json::array());
    if (!chain.is_array()) return absl::InvalidArgumentError("chain is not an array");
    for (const auto& b64 : chain) {
      std::string der;
      if (!b64.is_string() || !Base64Decode(b64.get<std::string>(), &der)) {
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
        info->trusted = a.contains("validation") && JsonBool(a["validation"], "trusted");
        for (const auto& f : a.value("findings", nlohmann::json::array())) {
          if (!f.is_object()) continue;
          FindingInfo fi;
          fi.id = JsonString(f, "id");
          fi.severity = JsonString(f, "severity");
          fi.message = JsonString(f, "message");
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
    // Every field above is read by type; this is the last guard.
    return absl::InvalidArgumentError(absl::StrCat(
        "result line does not follow the schema (a field has the wrong type, id ", e.id, ")"));
  }
  return record;
}

}  // namespace ers

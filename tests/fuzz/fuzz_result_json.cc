// Fuzz target: the JSON Lines encoder with server-controlled strings and
// bytes (every line must parse back as JSON with the same fields), and the
// import decoder on arbitrary bytes (an error, never a crash).
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sweep/record_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  const size_t q = size / 4;
  ers::ScanRecord record;
  ers::ProbeResult& r = record.result;
  r.outcome = static_cast<ers::Outcome>(size % 9);
  r.name = s.substr(0, q);
  r.sni = s.substr(q, q);
  r.detail = s.substr(2 * q, q);
  r.alpn = s.substr(3 * q);
  r.first_bytes = s.substr(0, 16);
  r.version = size > 0 ? 0x0304 : 0;
  r.cipher = s;
  r.chain = {s, r.alpn};
  r.ocsp_response = r.detail;
  std::string line = ers::RecordToJson(record);
  if (line.find('\n') != std::string::npos) __builtin_trap();
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || j["chain"].size() != 2) __builtin_trap();
  (void)ers::RecordFromJson(s);
  return 0;
}

// json_fields.h: reading fields from JSON that others wrote (result lines,
// upload batches, CLM replies, imported files) without trusting them: a
// value of the wrong type gives the fallback or is refused, never an
// exception, and numbers out of range are refused, never converted with
// undefined behaviour.
#ifndef ERS_BASE_JSON_FIELDS_H_
#define ERS_BASE_JSON_FIELDS_H_

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ers {

// JsonInteger stores |j| in |*out| when it is an integer in [lo, hi].
inline bool JsonInteger(const nlohmann::json& j, int64_t lo, int64_t hi, int64_t* out) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(hi) || (lo > 0 && v < static_cast<uint64_t>(lo))) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
  }
  return false;
}

// JsonIntegerField reads |key| of object |j|: |fallback| when absent,
// false when present but not an integer in [lo, hi].
inline bool JsonIntegerField(const nlohmann::json& j, const char* key, int64_t lo,
                             int64_t hi, int64_t fallback, int64_t* out) {
  if (!j.is_object() || !j.contains(key)) {
    *out = fallback;
    return true;
  }
  return JsonInteger(j[key], lo, hi, out);
}

// JsonString returns member |key| of |j| when |j| is an object and the
// member a string, |fallback| otherwise (absent, null, a number...).
inline std::string JsonString(const nlohmann::json& j, const char* key,
                              const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

// JsonBool returns member |key| of |j| when it is a boolean, |fallback|
// otherwise.
inline bool JsonBool(const nlohmann::json& j, const char* key, bool fallback = false) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

// JsonInt returns member |key| of |j| when it is an integer that fits,
// |fallback| otherwise.
inline int64_t JsonInt(const nlohmann::json& j, const char* key, int64_t fallback = 0) {
  int64_t v = 0;
  if (!j.is_object() || !j.contains(key)) return fallback;
  return JsonInteger(j[key], INT64_MIN, INT64_MAX, &v) ? v : fallback;
}

}  // namespace ers

#endif  // ERS_BASE_JSON_FIELDS_H_

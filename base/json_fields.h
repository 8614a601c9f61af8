// json_fields.h: reading numbers from JSON that others wrote (result lines,
// upload batches) without trusting them: a float, a string or an
// out-of-range value is refused, never converted with undefined behaviour.
#ifndef ERS_BASE_JSON_FIELDS_H_
#define ERS_BASE_JSON_FIELDS_H_

#include <cstdint>

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

}  // namespace ers

#endif  // ERS_BASE_JSON_FIELDS_H_

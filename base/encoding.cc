#include "base/encoding.h"

#include "absl/strings/escaping.h"

namespace ers {

std::string HexEncode(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

std::string Base64Encode(absl::string_view bytes) {
  return absl::Base64Escape(bytes);
}

bool Base64Decode(absl::string_view text, std::string* out) {
  return absl::Base64Unescape(text, out);
}

}  // namespace ers

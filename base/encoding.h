// encoding.h: the one place that turns bytes into text and back: hex and
// base64. Every package that needs these calls here rather than writing its
// own. (Hashing is in digest.h, which needs BoringSSL; this file does not,
// so ers-clm can use it without linking BoringSSL.)
#ifndef ERS_BASE_ENCODING_H_
#define ERS_BASE_ENCODING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ers {

// HexEncode returns |bytes| as lower-case hex, two digits a byte.
std::string HexEncode(absl::string_view bytes);

// Base64Encode returns the standard (RFC 4648, padded) base64 of |bytes|.
std::string Base64Encode(absl::string_view bytes);

// Base64Decode decodes standard base64 into |*out|; it returns false, with
// |*out| unspecified, when |text| is not valid base64.
[[nodiscard]] bool Base64Decode(absl::string_view text, std::string* out);

}  // namespace ers

#endif  // ERS_BASE_ENCODING_H_

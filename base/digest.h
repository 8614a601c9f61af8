// digest.h: SHA-256 and random identifiers, from BoringSSL. The one place
// that hashes certificates and tokens; callers hash once and pass the
// digest along.
#ifndef ERS_BASE_DIGEST_H_
#define ERS_BASE_DIGEST_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace ers {

inline constexpr size_t kSha256Len = 32;

// Sha256 returns the 32-byte SHA-256 digest of |bytes|; Sha256Hex returns it
// in lower-case hex (64 characters).
std::string Sha256(absl::string_view bytes);
std::string Sha256Hex(absl::string_view bytes);

// RandomHex returns |num_bytes| bytes from BoringSSL's CSPRNG, in hex.
std::string RandomHex(size_t num_bytes);

}  // namespace ers

#endif  // ERS_BASE_DIGEST_H_

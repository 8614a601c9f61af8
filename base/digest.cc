#include "base/digest.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base/encoding.h"

namespace ers {

std::string Sha256(absl::string_view bytes) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
         reinterpret_cast<uint8_t*>(&digest[0]));
  return digest;
}

std::string Sha256Hex(absl::string_view bytes) { return HexEncode(Sha256(bytes)); }

std::string RandomHex(size_t num_bytes) {
  std::string bytes(num_bytes, '\0');
  RAND_bytes(reinterpret_cast<uint8_t*>(&bytes[0]), num_bytes);
  return HexEncode(bytes);
}

}  // namespace ers

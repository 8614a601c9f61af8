// Fuzz target: the record tap against arbitrary server bytes in arbitrary
// chunks, with or without a TLS 1.3 secret: it never crashes, and whatever
// it returns as certificates lies within what it was given.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tlsprobe/handshake_tap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t chunk = 1 + data[0] % 200;
  const bool secret_first = data[1] & 1;
  const std::string secret(32, static_cast<char>(data[1]));
  ers::HandshakeTap tap(64 * 1024);
  if (secret_first) tap.SetServerHandshakeSecret(secret);
  size_t fed = 0;
  for (size_t at = 2; at < size && !tap.done(); at += chunk) {
    const size_t n = at + chunk <= size ? chunk : size - at;
    tap.OnBytes(std::string(reinterpret_cast<const char*>(data) + at, n));
    fed += n;
  }
  if (!secret_first) tap.SetServerHandshakeSecret(secret);
  size_t total = 0;
  for (const std::string& c : tap.certificates()) total += c.size();
  if (total > fed) __builtin_trap();
  return 0;
}

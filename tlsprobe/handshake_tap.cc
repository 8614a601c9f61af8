#include "tlsprobe/handshake_tap.h"

#include <openssl/aead.h>
#include <openssl/digest.h>
#include <openssl/hkdf.h>

#include <cstdint>

namespace ers {
namespace {

constexpr uint8_t kChangeCipherSpec = 20;
constexpr uint8_t kAlert = 21;
constexpr uint8_t kApplicationData = 23;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kServerHello = 2;
constexpr uint8_t kCertificate = 11;
// A record's fragment is at most 2^14 bytes (plus expansion when
// protected); anything longer is not TLS.
constexpr size_t kMaxRecord = (1 << 14) + 2048;

size_t Be(absl::string_view s, size_t at, size_t n) {
  size_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

// ServerHelloTls13Suite returns the cipher suite of a ServerHello body that
// selects TLS 1.3 (its supported_versions extension says 0x0304; what
// follows it is encrypted), or 0.
uint16_t ServerHelloTls13Suite(absl::string_view body) {
  // version (2), random (32), session id (1 + n), cipher (2), compression
  // (1), extensions (2 + n).
  size_t at = 2 + 32;
  if (body.size() < at + 1) return 0;
  at += 1 + static_cast<uint8_t>(body[at]);
  if (body.size() < at + 3) return 0;
  const uint16_t suite = static_cast<uint16_t>(Be(body, at, 2));
  at += 3;
  if (body.size() < at + 2) return 0;
  size_t end = at + 2 + Be(body, at, 2);
  at += 2;
  if (end > body.size()) return 0;
  while (at + 4 <= end) {
    const size_t type = Be(body, at, 2), len = Be(body, at + 2, 2);
    at += 4;
    if (at + len > end) return 0;
    if (type == 43 && len == 2) return Be(body, at, 2) == 0x0304 ? suite : 0;
    at += len;
  }
  return 0;
}

// ExpandLabel is TLS 1.3's HKDF-Expand-Label with an empty context.
bool ExpandLabel(const EVP_MD* md, absl::string_view secret, const char* label,
                 uint8_t* out, size_t out_len) {
  std::string info;
  info.push_back(static_cast<char>(out_len >> 8));
  info.push_back(static_cast<char>(out_len & 0xff));
  const std::string full = std::string("tls13 ") + label;
  info.push_back(static_cast<char>(full.size()));
  info += full;
  info.push_back(0);
  return HKDF_expand(out, out_len, md, reinterpret_cast<const uint8_t*>(secret.data()),
                     secret.size(), reinterpret_cast<const uint8_t*>(info.data()),
                     info.size()) == 1;
}

}  // namespace

void HandshakeTap::OnBytes(absl::string_view bytes) {
  if (done_) return;
  seen_ += bytes.size();
  if (seen_ > max_bytes_) return Stop();
  records_.append(bytes.data(), bytes.size());
  size_t at = 0;
  while (!done_ && records_.size() - at >= 5) {
    const uint8_t type = static_cast<uint8_t>(records_[at]);
    const size_t len = Be(records_, at + 3, 2);
    if (static_cast<uint8_t>(records_[at + 1]) != 3 || len > kMaxRecord) return Stop();
    if (records_.size() - at < 5 + len) break;
    if (type == kHandshake) {
      handshake_.append(records_, at + 5, len);
      OnHandshake();
    } else if (type == kApplicationData && tls13_) {
      OnEncrypted(absl::string_view(records_).substr(at, 5 + len));
    } else if (type == kChangeCipherSpec && tls13_) {
      // TLS 1.3's middlebox-compatibility record: nothing in it.
    } else if (type != kAlert) {
      // TLS 1.2's ChangeCipherSpec, or data before any hello: the rest is
      // encrypted, or this is not a TLS server.
      return Stop();
    }
    at += 5 + len;
  }
  if (!done_) records_.erase(0, at);
}

void HandshakeTap::OnHandshake() {
  size_t at = 0;
  while (!done_ && handshake_.size() - at >= 4) {
    const uint8_t type = static_cast<uint8_t>(handshake_[at]);
    const size_t len = Be(handshake_, at + 1, 3);
    if (len > max_bytes_) return Stop();
    if (handshake_.size() - at < 4 + len) break;
    absl::string_view body(handshake_.data() + at + 4, len);
    if (type == kServerHello) {
      // A HelloRetryRequest is a ServerHello too; the real one follows it.
      if (const uint16_t suite = ServerHelloTls13Suite(body); suite != 0) {
        tls13_ = true;
        suite_ = suite;
      }
    }
    if (type == kCertificate) {
      // TLS 1.3 puts a request context first, and extensions after each
      // entry. Then certificate_list: a 3-byte length, 3-byte-length DER
      // entries.
      if (tls13_) {
        if (body.empty() || body.size() < 1u + static_cast<uint8_t>(body[0])) return Stop();
        body.remove_prefix(1 + static_cast<uint8_t>(body[0]));
      }
      if (body.size() < 3 || Be(body, 0, 3) != body.size() - 3) return Stop();
      std::vector<std::string> certs;
      for (size_t c = 3; c < body.size();) {
        if (body.size() - c < 3) return Stop();
        const size_t n = Be(body, c, 3);
        if (n == 0 || body.size() - c - 3 < n) return Stop();
        certs.emplace_back(body.substr(c + 3, n));
        c += 3 + n;
        if (tls13_) {
          if (body.size() - c < 2 || body.size() - c - 2 < Be(body, c, 2)) return Stop();
          c += 2 + Be(body, c, 2);
        }
      }
      certificates_ = std::move(certs);
      return Stop();
    }
    at += 4 + len;
  }
  if (!done_) handshake_.erase(0, at);
}

void HandshakeTap::SetServerHandshakeSecret(absl::string_view secret) {
  if (done_ || !secret_.empty()) return;
  secret_ = std::string(secret);
  std::vector<std::string> waiting;
  waiting.swap(waiting_);
  for (const std::string& record : waiting) {
    if (done_) break;
    OnEncrypted(record);
  }
}

void HandshakeTap::OnEncrypted(absl::string_view record) {
  if (secret_.empty()) {
    waiting_.emplace_back(record);
    return;
  }
  const EVP_AEAD* aead = nullptr;
  const EVP_MD* md = nullptr;
  size_t key_len = 0;
  switch (suite_) {
    case 0x1301:
      aead = EVP_aead_aes_128_gcm();
      md = EVP_sha256();
      key_len = 16;
      break;
    case 0x1302:
      aead = EVP_aead_aes_256_gcm();
      md = EVP_sha384();
      key_len = 32;
      break;
    case 0x1303:
      aead = EVP_aead_chacha20_poly1305();
      md = EVP_sha256();
      key_len = 32;
      break;
    default:
      return Stop();
  }
  uint8_t key[32], iv[12];
  if (!ExpandLabel(md, secret_, "key", key, key_len) || !ExpandLabel(md, secret_, "iv", iv, 12)) {
    return Stop();
  }
  // The nonce is the IV XOR the record's sequence number.
  for (int i = 0; i < 8; ++i) iv[11 - i] ^= static_cast<uint8_t>(sequence_ >> (8 * i));
  ++sequence_;
  bssl::ScopedEVP_AEAD_CTX ctx;
  if (!EVP_AEAD_CTX_init(ctx.get(), aead, key, key_len, EVP_AEAD_DEFAULT_TAG_LENGTH, nullptr)) {
    return Stop();
  }
  const absl::string_view header = record.substr(0, 5), body = record.substr(5);
  std::string plain(body.size(), '\0');
  size_t plain_len = 0;
  if (!EVP_AEAD_CTX_open(ctx.get(), reinterpret_cast<uint8_t*>(&plain[0]), &plain_len,
                         plain.size(), iv, sizeof(iv),
                         reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                         reinterpret_cast<const uint8_t*>(header.data()), header.size())) {
    return Stop();
  }
  plain.resize(plain_len);
  // TLSInnerPlaintext: content, the real content type, zero padding.
  while (!plain.empty() && plain.back() == '\0') plain.pop_back();
  if (plain.empty() || static_cast<uint8_t>(plain.back()) != kHandshake) return Stop();
  plain.pop_back();
  handshake_ += plain;
  OnHandshake();
}

}  // namespace ers

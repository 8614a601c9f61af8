#include "tlsprobe/handshake_tap.h"

#include <openssl/aead.h>
#include <openssl/bytestring.h>
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
  CBS cbs, session_id, extensions;
  uint16_t version, suite;
  uint8_t compression;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (!CBS_get_u16(&cbs, &version) || !CBS_skip(&cbs, 32) ||
      !CBS_get_u8_length_prefixed(&cbs, &session_id) || !CBS_get_u16(&cbs, &suite) ||
      !CBS_get_u8(&cbs, &compression) || !CBS_get_u16_length_prefixed(&cbs, &extensions)) {
    return 0;
  }
  while (CBS_len(&extensions) > 0) {
    uint16_t type;
    CBS data;
    if (!CBS_get_u16(&extensions, &type) || !CBS_get_u16_length_prefixed(&extensions, &data)) {
      return 0;
    }
    uint16_t selected;
    if (type == 43) {  // supported_versions
      return CBS_get_u16(&data, &selected) && CBS_len(&data) == 0 && selected == 0x0304 ? suite
                                                                                          : 0;
    }
  }
  return 0;
}

// ParseCertificates reads a Certificate message's body (TLS 1.3's with its
// request context and per-entry extensions) into DER certificates; false
// when it is malformed.
bool ParseCertificates(absl::string_view body, bool tls13, std::vector<std::string>* out) {
  CBS cbs, context, list;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if ((tls13 && !CBS_get_u8_length_prefixed(&cbs, &context)) ||
      !CBS_get_u24_length_prefixed(&cbs, &list) || CBS_len(&cbs) != 0) {
    return false;
  }
  while (CBS_len(&list) > 0) {
    CBS der, extensions;
    if (!CBS_get_u24_length_prefixed(&list, &der) || CBS_len(&der) == 0 ||
        (tls13 && !CBS_get_u16_length_prefixed(&list, &extensions))) {
      return false;
    }
    out->emplace_back(reinterpret_cast<const char*>(CBS_data(&der)), CBS_len(&der));
  }
  return true;
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
      std::vector<std::string> certs;
      if (!ParseCertificates(body, tls13_, &certs)) return Stop();
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

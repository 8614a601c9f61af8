#include "tlsprobe/client_context.h"

#include <openssl/err.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tlsprobe/probe.h"

namespace ers {
namespace {

// The ladder: a modern hello first; TLS 1.2 without TLS 1.3's extensions for
// servers that choke on them; then TLS 1.0/1.1 for servers that only speak
// those.
constexpr Rung kRungs[] = {
    {TLS1_2_VERSION, TLS1_3_VERSION, "tls1.3+1.2"},
    {TLS1_2_VERSION, TLS1_2_VERSION, "tls1.2"},
    {TLS1_VERSION, TLS1_1_VERSION, "legacy"},
};

// Offered groups: X25519 first (the one key share BoringSSL sends), then the
// NIST curves servers most often require.
constexpr const char* kGroups = "X25519:P-256:P-384";

}  // namespace

const char* RungName(int rung) {
  if (rung < 1 || rung > static_cast<int>(sizeof(kRungs) / sizeof(kRungs[0]))) return "";
  return kRungs[rung - 1].name;
}

namespace {

absl::Status SslError(absl::string_view what) {
  char buf[256];
  uint32_t err = ERR_get_error();
  ERR_error_string_n(err, buf, sizeof(buf));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", buf));
}

}  // namespace

int ClientContext::ExDataIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

absl::StatusOr<std::unique_ptr<ClientContext>> ClientContext::Create(
    const ProbeOptions& options) {
  std::string alpn_wire;
  for (const std::string& proto : options.alpn) {
    if (proto.empty() || proto.size() > 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ALPN protocol \"", proto, "\" must be 1 to 255 bytes"));
    }
    alpn_wire += static_cast<char>(proto.size());
    alpn_wire += proto;
  }
  std::unique_ptr<ClientContext> cc(new ClientContext());
  cc->options_ = options;
  (void)ExDataIndex();
  const int num_rungs = options.fallback ? 3 : 1;
  // Each rung has two contexts: the sweep's, and one that also logs the
  // TLS 1.3 secrets, for the attempt that reads a refused leaf's chain from
  // the records (Probe, HandshakeTap): the key log costs every other
  // handshake nothing.
  auto make = [&](const Rung& rung, bool keylog) -> absl::StatusOr<bssl::UniquePtr<SSL_CTX>> {
    bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
    if (!ctx) return SslError("SSL_CTX_new");
    if (!SSL_CTX_set_min_proto_version(ctx.get(), rung.min_version) ||
        !SSL_CTX_set_max_proto_version(ctx.get(), rung.max_version)) {
      return SslError("set protocol versions");
    }
    if (!SSL_CTX_set1_curves_list(ctx.get(), kGroups)) {
      return SslError("set groups");
    }
    // Old servers may only offer CBC or plain-RSA suites: accept them all;
    // we record what was negotiated, we do not protect data with it.
    if (!SSL_CTX_set_cipher_list(ctx.get(), "ALL")) {
      return SslError("set cipher list");
    }
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    if (options.request_ocsp) SSL_CTX_enable_ocsp_stapling(ctx.get());
    if (options.request_scts) SSL_CTX_enable_signed_cert_timestamps(ctx.get());
    if (!alpn_wire.empty() &&
        SSL_CTX_set_alpn_protos(
            ctx.get(), reinterpret_cast<const uint8_t*>(alpn_wire.data()),
            alpn_wire.size()) != 0) {
      return SslError("set ALPN");
    }
    SSL_CTX_set_custom_verify(ctx.get(), SSL_VERIFY_PEER,
                              &Probe::VerifyCallback);
    SSL_CTX_set_info_callback(ctx.get(), &Probe::InfoCallback);
    if (keylog) SSL_CTX_set_keylog_callback(ctx.get(), &Probe::KeyLogCallback);
    return ctx;
  };
  for (int i = 0; i < num_rungs; ++i) {
    const Rung& rung = kRungs[i];
    absl::StatusOr<bssl::UniquePtr<SSL_CTX>> ctx = make(rung, false);
    if (!ctx.ok()) return ctx.status();
    absl::StatusOr<bssl::UniquePtr<SSL_CTX>> tap_ctx = make(rung, true);
    if (!tap_ctx.ok()) return tap_ctx.status();
    cc->rungs_.push_back(rung);
    cc->ctxs_.push_back(*std::move(ctx));
    cc->tap_ctxs_.push_back(*std::move(tap_ctx));
  }
  return cc;
}

}  // namespace ers

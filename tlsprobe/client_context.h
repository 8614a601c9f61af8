// client_context.h: the shared client configuration of all probes: one
// SSL_CTX per rung of the fallback ladder, built once and shared by every
// connection.
#ifndef ERS_TLSPROBE_CLIENT_CONTEXT_H_
#define ERS_TLSPROBE_CLIENT_CONTEXT_H_

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ers/record.h"

namespace ers {

// ProbeOptions configures every probe of a scan.
struct ProbeOptions {
  ProbeMode mode = ProbeMode::kCerts;
  uint32_t connect_timeout_ms = 5000;
  uint32_t handshake_timeout_ms = 10000;
  // connect_retries is how many more times a connect that timed out is
  // tried (SYNs get lost on busy networks).
  int connect_retries = 1;
  // fallback enables the ladder: when a server rejects the first hello,
  // reconnect with an older one.
  bool fallback = true;
  std::vector<std::string> alpn;  // offered when not empty, e.g. {"h2"}
  bool request_ocsp = true;
  bool request_scts = true;
  // max_handshake_bytes cuts off a server whose handshake is larger; real
  // chains are under 16 KiB, the largest seen in surveys under 100 KiB.
  uint32_t max_handshake_bytes = 256 * 1024;
};

// Rung is one step of the fallback ladder.
struct Rung {
  uint16_t min_version;
  uint16_t max_version;
  const char* name;
};

// RungName returns the name of 1-based |rung| of the ladder ("tls1.3+1.2",
// "tls1.2", "legacy"), a static string; "" for any other number.
const char* RungName(int rung);

// ClientContext holds the SSL_CTX of each rung. It is immutable after
// Create and may be shared by any number of probes on one thread.
class ClientContext {
 public:
  // Create builds the contexts for |options|: groups X25519, P-256, P-384;
  // OCSP and SCT requests and ALPN as configured; no session cache; a
  // custom-verify callback that records the chain (validation is x509/'s
  // job, so no trust store is loaded here). Fails with kInvalidArgument for
  // a bad ALPN list, kInternal when BoringSSL refuses a setting.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ClientContext>> Create(
      const ProbeOptions& options);

  const ProbeOptions& options() const { return options_; }
  int num_rungs() const { return static_cast<int>(rungs_.size()); }
  const Rung& rung(int i) const { return rungs_[i]; }
  SSL_CTX* ctx(int i) const { return ctxs_[i].get(); }
  // tap_ctx is rung |i|'s context with a key log callback (the TLS 1.3
  // secrets, for the record tap).
  SSL_CTX* tap_ctx(int i) const { return tap_ctxs_[i].get(); }

  // ExDataIndex is the SSL ex_data slot that points back to the Probe.
  static int ExDataIndex();

 private:
  ClientContext() = default;

  ProbeOptions options_;
  std::vector<Rung> rungs_;
  std::vector<bssl::UniquePtr<SSL_CTX>> ctxs_;
  std::vector<bssl::UniquePtr<SSL_CTX>> tap_ctxs_;
};

}  // namespace ers

#endif  // ERS_TLSPROBE_CLIENT_CONTEXT_H_

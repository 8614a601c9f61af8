// probe_result.h: what one probe of one endpoint found. Every probe ends in
// exactly one classified Outcome; nothing a server does ends it any other
// way.
#ifndef ERS_TLSPROBE_PROBE_RESULT_H_
#define ERS_TLSPROBE_PROBE_RESULT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/ip_address.h"

namespace ers {

// Outcome classifies a probe.
enum class Outcome : uint8_t {
  kTls,          // a TLS server answered and sent its certificate chain
  kRefused,      // the TCP connection was refused
  kTimeout,      // connect or handshake timed out (see timeout_phase)
  kReset,        // the server reset or closed the connection mid-handshake
  kNotTls,       // the server answered with something that is not TLS
  kTlsAlert,     // the server ended the handshake with a TLS alert
  kError,        // anything else: reason in |detail|
  kUnresolved,   // a host name did not resolve (no address was probed)
  kExcluded,     // the address is on the exclusion list and was not probed
  kNoResources,  // internal: no socket could be had (EMFILE, ENOBUFS); the
                 // engine retries the target later and never reports this
};

// OutcomeName returns the schema name of |o| ("tls", "refused", ...).
const char* OutcomeName(Outcome o);

// ProbeMode says how far a handshake went.
enum class ProbeMode : uint8_t {
  kFull,   // complete the handshake; record the negotiated parameters
  kCerts,  // capture the chain as soon as it arrives, then abort
};
const char* ProbeModeName(ProbeMode m);

// ProbeResult is the record of one probe. Strings are empty and numbers zero
// when not applicable.
struct ProbeResult {
  // The target.
  IpAddress address;
  uint16_t port = 0;
  std::string name;  // host name the address came from, if any
  std::string sni;   // server name sent, empty for none

  Outcome outcome = Outcome::kError;
  std::string detail;  // error reason, alert name, timeout phase, ...
  int alert = -1;      // TLS alert code received, for kTlsAlert
  std::string first_bytes;  // for kNotTls: the first bytes seen (<= 16)

  ProbeMode mode = ProbeMode::kCerts;
  int rung = 0;      // 1-based fallback-ladder rung that answered
  const char* rung_name = "";  // its name, e.g. "tls1.3+1.2" (static)
  int attempts = 0;  // TCP connections made (fallbacks and retries)

  double connect_ms = 0;    // TCP connect time of the last attempt
  double handshake_ms = 0;  // from connected to chain (or handshake done)
  int64_t start_unix_ms = 0;  // wall clock when the probe started

  // Negotiated parameters. In certs mode, those known when the chain
  // arrived (version, and cipher for TLS 1.2 and later).
  uint16_t version = 0;  // e.g. 0x0304
  std::string version_name;
  std::string cipher;
  std::string group;
  std::string alpn;
  std::string peer_signature_algorithm;

  std::vector<std::string> chain;  // DER certificates, in the order served
  std::string ocsp_response;       // stapled OCSP response (DER)
  std::string sct_list;            // SignedCertificateTimestampList (RFC 6962)

  uint64_t bytes_received = 0;
};

}  // namespace ers

#endif  // ERS_TLSPROBE_PROBE_RESULT_H_

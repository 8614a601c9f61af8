// record.h: ScanRecord, what a sweep found at one endpoint: the probe's
// result (target, outcome, timings, negotiated parameters, the chain as
// served) and what is known of the chain (each certificate parsed once, its
// SHA-256, and the chain's validation and findings when analysis is on).
// One record is built per result and handed, unchanged, to every sink.
//
// Every probe ends in exactly one classified Outcome; nothing a server does
// ends it any other way.
#ifndef ERS_INCLUDE_ERS_RECORD_H_
#define ERS_INCLUDE_ERS_RECORD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ers/ip_address.h"

namespace ers {

// Outcome classifies a probe.
enum class Outcome : uint8_t {
  kTls,          // a TLS server answered and sent its certificate chain
  kRefused,      // the TCP connection was refused
  kTimeout,      // connect or handshake timed out (see timeout_phase)
  kReset,        // the server reset or closed the connection mid-handshake
  kNotTls,       // the server answered with something that is not TLS
  kTlsAlert,     // the server ended the handshake with a TLS alert
  kError,        // a failure on ers's side (a socket error, no socket after
                 // retries): reason in |detail|
  kUnresolved,   // a host name did not resolve (no address was probed)
  kExcluded,     // the address is on the exclusion list and was not probed
  kStarttlsRefused,  // the plain-text server refused the STARTTLS upgrade
                     // (|banner| holds its reply)
  kTlsError,     // the server broke the TLS protocol: a malformed or oversized
                 // handshake, a HelloRetryRequest loop, a leaf the TLS library
                 // rejected whose chain the records did not show; reason in
                 // |detail|. kError is kept for failures on ers's side.
  kUnreachable,  // the host is not there: no ARP answer on the local subnet,
                 // or an unreachable route (EHOSTUNREACH). No route at all
                 // from this machine (ENETUNREACH) is kError.
  kNoResources,  // internal: no socket could be had (EMFILE, ENOBUFS); the
                 // engine retries the target later and never reports this
};

// kNumOutcomes sizes arrays indexed by Outcome.
constexpr int kNumOutcomes = static_cast<int>(Outcome::kNoResources) + 1;

// OutcomeName returns the schema name of |o| ("tls", "refused", ...).
const char* OutcomeName(Outcome o);

// Starttls is the plain-text protocol upgraded to TLS before the handshake
// (kNone: TLS from the first byte). tlsprobe/starttls.h has the dialogues.
enum class Starttls : uint8_t {
  kNone,
  kSmtp,
  kLmtp,
  kImap,
  kPop3,
  kLdap,
  kFtp,
  kXmpp,
  kXmppServer,
  kPostgres,
  kMysql,
  kRdp,
  kSieve,
  kNntp,
  kTelnet,
};
constexpr int kNumStarttls = static_cast<int>(Starttls::kTelnet) + 1;

// StarttlsName returns the name of |p| ("smtp", "xmpp-server", ...; "none"
// for kNone).
const char* StarttlsName(Starttls p);

// ProbeMode says how far a handshake went.
enum class ProbeMode : uint8_t {
  kFull,   // complete the handshake; record the negotiated parameters
  kCerts,  // capture the chain as soon as it arrives, then abort
};
const char* ProbeModeName(ProbeMode m);

// SniSource is where SNI discovery found a name to try on an address.
enum class SniSource : uint8_t { kNone, kSan, kCn, kSni, kPtr };
inline constexpr int kNumSniSources = 5;
// SniSourceName returns "", "san", "cn", "sni" or "ptr".
const char* SniSourceName(SniSource s);

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
  // starttls is the upgrade used (kNone: implicit TLS). banner is the
  // server's plain-text line that refused the upgrade, or that showed it
  // speaks another protocol: printable ASCII, at most 256 bytes.
  Starttls starttls = Starttls::kNone;
  std::string banner;
  // sni_source says why a probe of an address target sent |sni|: SNI
  // discovery tried a name the address's default certificate is issued for
  // (kSan, kCn), one given with --sni (kSni) or the address's PTR name
  // (kPtr); kNone for every other probe. differs_from_default is true when
  // such a probe got a leaf other than the one the address sends without
  // SNI: a virtual host of its own.
  SniSource sni_source = SniSource::kNone;
  bool differs_from_default = false;

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

// CertificateInfo is one served certificate, parsed once per distinct DER.
// When the DER does not parse, |parsed| is false, |parse_error| says why and
// only |sha256_hex| is set.
struct CertificateInfo {
  std::string sha256_hex;  // of the DER, lower-case hex
  bool parsed = false;
  std::string parse_error;
  std::string subject;  // RFC 2253
  std::string subject_cn;
  std::string issuer;
  std::string issuer_cn;
  std::string issuer_org;
  std::string serial_hex;
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  std::string key_type;  // "rsa", "ec", "ed25519", "dsa", "unknown"
  int key_bits = 0;
  std::string key_curve;
  std::string signature_algorithm;
  bool self_signed = false;
  bool is_ca = false;
  std::vector<std::string> dns_names;
};

// FindingInfo is one finding of the chain analysis (docs/findings.md).
struct FindingInfo {
  std::string id;        // stable identifier, e.g. "expiring_soon"
  std::string severity;  // "info", "low", "medium", "high", "critical"
  std::string message;
  int cert = 0;           // position on the normalized path; -1: the chain
  int64_t days_left = 0;  // for expiry findings
};

// ChainInfo is what is known of one served chain. Records that served the
// same chain (and, for the analysis, asked with the same name and TLS
// version) share one ChainInfo.
struct ChainInfo {
  std::vector<CertificateInfo> certificates;  // in the order served
  // analysed: validation and findings were computed (SweepOptions::analyse).
  bool analysed = false;
  bool trusted = false;
  std::vector<std::string> reasons;  // why not trusted (see docs/findings.md)
  std::vector<FindingInfo> findings;
  // analysis_json is the "analysis" member of the result schema
  // (docs/result-schema.md) as JSON text, or empty when not analysed.
  std::string analysis_json;
};

// ScanRecord is one result of a sweep.
struct ScanRecord {
  ProbeResult result;
  // position is the target's place in its walk (resume bookkeeping) and
  // worker the worker process (0-based) that probed it.
  uint64_t position = 0;
  uint32_t worker = 0;
  // chain is set for every kTls result and shared between records.
  std::shared_ptr<const ChainInfo> chain;
};

// RecordToJson returns |record| as one line of JSON (no trailing newline) in
// the result schema (docs/result-schema.md), with its chain's analysis as
// "analysis" when it was analysed. Binary fields are base64; strings a
// server controls are escaped, and invalid UTF-8 is replaced.
std::string RecordToJson(const ScanRecord& record);

}  // namespace ers

#endif  // ERS_INCLUDE_ERS_RECORD_H_

// sweep.h: the ers embedding API. A Sweep probes every target of a target
// space (CIDR blocks, address ranges and host names, each on a list of
// ports) for TLS, captures each server's certificate chain, analyses it
// (parse, validate against a trust store, findings under a policy) and hands
// one ScanRecord per result to the caller's sinks.
//
//   ers::SweepOptions options;
//   options.targets = "127.0.0.0/24";   // the --ips / --servers syntax
//   options.ports = "443,8443";
//   absl::StatusOr<std::unique_ptr<ers::Sweep>> sweep =
//       ers::Sweep::Create(options);
//   if (!sweep.ok()) { ... }
//   absl::Status s = (*sweep)->Run([](const ers::ScanRecord& r) { ... });
//
// Threading. Run drives one libuv event loop on the calling thread and calls
// every sink on that thread, one record at a time, never concurrently and
// never reentrantly. Chain analysis runs on a small pool of threads of its
// own; records wait for their chain's analysis and so reach the sinks in
// completion order, not walk order. When the pool falls behind, the loop
// thread analyses too, so probing slows rather than memory growing. Stop may
// be called from any thread and from a signal handler. progress() may be
// read from any thread.
//
// Signals. Run installs no signal handler and changes no process-wide
// disposition. While it runs, SIGPIPE is blocked on the calling thread (a
// server hanging up mid-write is a result, not the end of the caller's
// process); the thread's mask is restored before Run returns.
//
// Worker processes. When SweepOptions::workers > 1 (or the open-file limit
// cannot hold SweepOptions::concurrency connections in one process), Run
// forks that many worker processes before it starts any thread; each sweeps
// a sub-shard on its own loop and sends its results to the calling process
// over a pipe, where they are analysed and handed to the sinks as above.
// The children never return into the caller's code. An embedder whose
// process must not fork leaves workers at 1 and concurrency under its
// open-file limit.
//
// Ownership. A Sweep owns everything it creates. Sinks and callbacks passed
// to Run are borrowed for the duration of the call. A record, and the
// ChainInfo it points to, is valid during the sink call; keep the
// shared_ptr to keep a ChainInfo longer.
#ifndef ERS_INCLUDE_ERS_SWEEP_H_
#define ERS_INCLUDE_ERS_SWEEP_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ers/issuer_downloader.h"
#include "ers/record.h"

namespace ers {

// TargetGroup is a set of targets sharing one port list.
struct TargetGroup {
  // ips: CIDR blocks, single addresses and "first-last" ranges, IPv4 or
  // IPv6, comma-separated (the --ips syntax). A block with host bits set
  // ("10.0.0.1/24") is an error, so a typo never widens a sweep.
  std::string ips;
  // servers: host names and address literals, comma-separated (the
  // --servers syntax). Names are resolved when the sweep reaches them; every
  // address is probed, with the name as SNI.
  std::string servers;
  // ports: a port list such as "443,8000-9000"; empty means the default
  // ports (443, 465, 636, 853, 989, 990, 992, 993, 995).
  std::string ports;
};

struct SweepOptions {
  // What to probe: |targets| (each entry an address range or a host name)
  // on |ports|, plus every group in |groups|. Overlaps are probed once.
  std::string targets;
  std::string ports;
  std::vector<TargetGroup> groups;
  // exclusions: CIDR blocks, addresses and ranges never to be probed, in
  // the exclusion-file syntax (one or more per line, '#' comments). They are
  // cut out of the target space and checked again before every connection,
  // including addresses host names resolve to.
  std::string exclusions;
  // exclusion_file: a file in that syntax, read by Create, in addition.
  // An IPv4 exclusion covers every IPv6 spelling of its addresses
  // (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4).
  std::string exclusion_file;
  // allow_special_addresses lets special-purpose space be probed: this host
  // (0.0.0.0/8, ::), multicast (224.0.0.0/4, ff00::/8) and reserved space
  // (240.0.0.0/4, broadcast included), in any spelling. By default a target
  // entirely inside it is refused by Create, a range that overlaps it loses
  // that part (with a warning), and a host name resolving into it gets an
  // kExcluded result saying why.
  bool allow_special_addresses = false;
  // resolve maps host names to addresses instead of DNS: "name=address,...".
  std::string resolve;

  // How to probe. kCerts captures the chain and aborts the handshake (the
  // cheapest); kFull completes it and records the negotiated parameters.
  ProbeMode mode = ProbeMode::kCerts;
  // concurrency: connections in flight (0: sized to the open-file limit, at
  // most 10,000). rate: connection attempts per second, every attempt counted
  // (first tries, connect retries, fallback reconnects; 0: unlimited).
  uint32_t concurrency = 0;
  double rate = 0;
  uint32_t per_address_cap = 32;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration handshake_timeout = absl::Seconds(10);
  int connect_retries = 1;  // of connects that timed out
  bool fallback = true;     // retry rejected hellos with older TLS versions
  // sni: names sent to address targets, one probe each ("" for no SNI);
  // empty sends none. With sni_discovery they are tried after the probe
  // without SNI instead.
  std::vector<std::string> sni;
  // domains: DNS domains whose announced services are swept: their mail
  // exchangers (MX) on 25 with SMTP STARTTLS, the targets of a table of SRV
  // names (_submission._tcp, _imap._tcp, _imaps._tcp, _ldap._tcp,
  // _xmpp-client._tcp, _https._tcp, ... scanner/domain_targets.h) on the
  // port and with the protocol each announces, and the domain itself on
  // |ports|. They are expanded when the sweep is created (the MX and SRV
  // queries concurrently); the host names found are resolved as the sweep
  // reaches them, and exclusions apply to every address.
  std::vector<std::string> domains;
  // resolver: the DNS server for domains and host names, ADDRESS[:PORT]
  // (port 53 by default). Empty: the system's configuration. When given,
  // SNI discovery also tries each answering address's PTR names (asked of
  // this server only: a sweep sends no reverse queries unless told where).
  std::string resolver;
  // sni_discovery: once an address target answers (a chain, or an alert
  // without SNI), the same address and port is probed once with each name
  // its certificate is issued for (subjectAltName dNSNames, then a CN that
  // is a host name; wildcards skipped) and each name of |sni|, at most
  // sni_max (1 to 1024) per endpoint. These probes count against |rate|.
  // A name from the certificate becomes a record only when it reveals a
  // virtual host (a leaf other than the default: differs_from_default);
  // one from |sni| always does. Records carry sni_source.
  bool sni_discovery = true;
  uint32_t sni_max = 16;
  std::vector<std::string> alpn;
  // starttls: which ports are upgraded from a plain-text protocol with
  // STARTTLS before the handshake. Empty: the built-in table (25 and 587
  // smtp, 24 lmtp, 110 pop3, 143 imap, 389 ldap, 21 ftp, 5222 xmpp, 5269
  // xmpp-server, 5432 postgres, 3306 mysql, 3389 rdp, 4190 sieve, 119 nntp,
  // 23 telnet); "PORT=PROTOCOL,..." entries on top of it (PROTOCOL "none"
  // for implicit TLS on that port); "none" for no upgrade anywhere.
  std::string starttls;

  // Chain analysis. With |analyse| false, records still carry each
  // certificate's parsed fields and SHA-256, but no validation or findings.
  bool analyse = true;
  // Trust: the system bundle (/etc/ssl/certs/ca-certificates.crt) when
  // |system_roots|, plus the PEM files in |root_files|; |intermediate_files|
  // complete chains that servers leave incomplete. |policy_file| holds
  // finding thresholds (docs/findings.md); empty uses the defaults.
  bool system_roots = true;
  std::vector<std::string> root_files;
  std::vector<std::string> intermediate_files;
  // aia: complete a chain whose path stops at a certificate with an unknown
  // issuer by fetching the issuer its AIA caIssuers URL names (http and
  // https only, 64 KiB, |aia_timeout| per fetch, at most 4 per chain; every
  // address it connects to is checked against the exclusions first), with
  // |aia_downloader| (ers/issuer_downloader.h; null: from |aia_cache_dir|
  // only). Off the loop thread. Bodies are kept in |aia_cache_dir| ("" for
  // none) for 7 days.
  bool aia = true;
  std::shared_ptr<IssuerDownloader> aia_downloader;
  // revocation: "" judges only the OCSP responses servers staple; "ocsp"
  // also asks the leaf's OCSP responder (its AIA OCSP URL, an HTTP GET
  // through |aia_downloader|, the same bounds and exclusions) when the
  // server stapled nothing; "crl" fetches the CRLs the path's certificates
  // name (at most 4 MiB each, cached for a day in |aia_cache_dir|) and
  // judges every certificate below the anchor by them.
  std::string revocation;
  std::string aia_cache_dir;
  absl::Duration aia_timeout = absl::Seconds(5);
  // root_files_public: hold the roots in |root_files| to the rules of
  // publicly trusted CAs (such as the 398-day validity limit), as the
  // system bundle's are; by default they are private (enterprise) roots.
  bool root_files_public = false;
  std::string policy_file;
  // analysis_threads: threads that analyse chains (0: one per core, at
  // least 1). Identical chains are analysed once (a bounded cache).
  uint32_t analysis_threads = 0;

  // Order and parts. The walk is a seeded pseudo-random permutation: one
  // seed gives one order; shard k of N (1-based) takes an exact 1/N of it.
  uint64_t seed = 0;
  uint32_t shard_index = 1;
  uint32_t shard_count = 1;
  // resume_point continues an interrupted sweep: the text a Sink received
  // in Checkpoint, or that resume_point() returned. It is refused for other
  // targets, seed, shard or worker count.
  std::string resume_point;
  // workers: worker processes (see above); 0 picks 1, or as many as the
  // open-file limit requires for |concurrency|.
  uint32_t workers = 0;
  // checkpoint_interval and checkpoint_records: how often sinks are asked
  // to make what they received durable (Sink::Checkpoint), whichever comes
  // first. A sweep killed outright repeats what came after the last
  // checkpoint. Each checkpoint costs a commit whose writes grow with the
  // indexes it touches, not with the records it covers: at 50 ms the
  // inventory's commits were ~8 % of a default ers scan's CPU.
  absl::Duration checkpoint_interval = absl::Seconds(1);
  uint32_t checkpoint_records = 10000;
};

// Sink receives the records of a sweep. See "Threading" above.
class Sink {
 public:
  virtual ~Sink() = default;
  // Record receives one record. An error stops the sweep: no new probes
  // start, the records still in flight are dropped, and Run returns the
  // error (with a resume point that repeats them).
  [[nodiscard]] virtual absl::Status Record(const ScanRecord& record) = 0;
  // Checkpoint is called every checkpoint interval, and once at the end,
  // when every record covered by |resume_point| has been passed to Record:
  // a sink that must not lose records makes them durable here and may store
  // |resume_point| with them (in the same transaction), so that a sweep
  // killed at any moment resumes without a gap.
  [[nodiscard]] virtual absl::Status Checkpoint(const std::string& resume_point) {
    (void)resume_point;
    return absl::OkStatus();
  }
};

// SweepProgress is a snapshot of a running sweep.
struct SweepProgress {
  uint64_t targets = 0;  // targets in this sweep (this shard, not resumed)
  uint64_t results = 0;  // records handed to the sinks
  uint64_t tls = 0;      // of which kTls
  uint64_t in_flight = 0;
};

// SweepSummary is what a finished (or stopped) sweep did.
struct SweepSummary {
  uint64_t targets_walked = 0;
  uint64_t results = 0;
  // by_outcome counts results, indexed by Outcome.
  std::array<uint64_t, kNumOutcomes> by_outcome{};
  uint64_t backpressure_events = 0;  // EMFILE/ENOBUFS seen (and retried)
  uint64_t peak_in_flight = 0;
  uint64_t names_resolved = 0;
  // SNI discovery: probes made, and virtual hosts found (a leaf other than
  // the address's default; only those, and names given with |sni|, become
  // records).
  uint64_t sni_probes = 0;
  uint64_t sni_virtual_hosts = 0;
  uint64_t chains_analysed = 0;  // distinct chains (cache misses)
  // AIA issuer fetches: over the network, answered from the caches,
  // refused (an excluded address, a scheme other than http/https), failed.
  uint64_t aia_fetched = 0;
  uint64_t aia_cache_hits = 0;
  uint64_t aia_refused = 0;
  uint64_t aia_failed = 0;
  uint64_t ocsp_queries = 0;  // --revocation ocsp: responders asked
  uint64_t ocsp_failed = 0;
  uint64_t crl_fetched = 0;  // --revocation crl
  uint64_t crl_cache_hits = 0;
  uint64_t crl_failed = 0;
  // certificates_parsed: distinct certificates parsed; one shared by many
  // chains (an intermediate) is parsed once.
  uint64_t certificates_parsed = 0;
  // findings counts records per finding identifier.
  std::map<std::string, uint64_t> findings;
  bool interrupted = false;  // Stop was called (or a sink failed)
  uint64_t remaining = 0;    // targets not yet done, when interrupted
  double elapsed_s = 0;
  uint32_t workers = 1;
  uint32_t concurrency = 0;  // over all workers
  uint64_t file_limit = 0;
};

class Sweep {
 public:
  // Create checks |options| and prepares a sweep: it parses the targets,
  // ports and exclusions (kInvalidArgument naming the bad token), loads the
  // trust store and policy (kNotFound / kInvalidArgument naming the file),
  // and checks the resume point (kInvalidArgument when malformed,
  // kFailedPrecondition when it belongs to another sweep). It sends nothing.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Sweep>> Create(
      const SweepOptions& options);
  virtual ~Sweep() = default;

  // Run probes every target and hands each record to each of |sinks|, in
  // order. It returns when every target has a record, or after Stop once
  // the connections in flight have ended. It may be called once. Errors:
  // the error of a sink that failed (the sweep stopped there); kInternal
  // when a worker process died or the event loop could not be set up.
  // Being stopped is not an error: see summary().interrupted.
  [[nodiscard]] virtual absl::Status Run(const std::vector<Sink*>& sinks) = 0;
  // Run with one function as the only sink.
  [[nodiscard]] absl::Status Run(std::function<void(const ScanRecord&)> fn);

  // Stop ends the sweep early: no new connection starts, those in flight
  // finish and their records are delivered. Safe from any thread and from a
  // signal handler; a no-op before Run and after it returned.
  virtual void Stop() = 0;

  // progress reads a snapshot; safe from any thread while Run runs.
  virtual SweepProgress progress() const = 0;
  // summary is valid after Run returned.
  virtual const SweepSummary& summary() const = 0;
  // resume_point returns, after Run, the point from which a later sweep
  // (SweepOptions::resume_point) continues without losing a target; empty
  // when the sweep finished.
  virtual std::string resume_point() const = 0;
  // tls_endpoints returns a few TLS endpoints, formatted for people.
  virtual std::vector<std::string> tls_endpoints() const = 0;
  // warnings returns what Create noticed but did not refuse (such as a
  // missing system CA bundle).
  virtual const std::vector<std::string>& warnings() const = 0;
  // num_targets is the number of targets of this sweep's shard.
  virtual uint64_t num_targets() const = 0;
};

}  // namespace ers

#endif  // ERS_INCLUDE_ERS_SWEEP_H_

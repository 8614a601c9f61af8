// scan_command.cc: `ers scan`. Builds the target space from the discover
// configuration (or from targets given on the command line) and walks it.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <cinttypes>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aia/curl_downloader.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/command_support.h"
#include "base/printable.h"
#include "cli/color.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "cli/clm_push.h"
#include "inventory/inventory.h"
#include "cli/progress.h"
#include "cli/scan_lock.h"
#include "ers/sweep.h"
#include "scanner/fd_limit.h"
#include "scanner/prefix_set.h"
#include "inventory/scan_run.h"
#include "sweep/json_lines_sink.h"
#include "sweep/sweep_plan.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/list_syntax.h"
#include "absl/strings/str_format.h"
#include "scanner/target_walker.h"

namespace ers {
namespace {

constexpr const char* kScanHelp = R"(Usage: ers scan [flags]

Scans every configured server and IP range on its ports (see ers discover),
or the targets given with --servers/--ips/--ports instead.

Results go into the inventory (see ers report, ers export) and, with
--output, to a JSON Lines file (schema: docs/result-schema.md). On a
terminal a progress line (drawn at once, redrawn every second; not with
--output -) and a summary go to standard error; from cron (no terminal)
ers prints only errors. Ctrl-C (or SIGTERM) stops cleanly: probes in
flight finish, and a resume point is stored; a second Ctrl-C stops at once
(the last checkpoint's resume point stays). --resume continues there.
Only one scan of an inventory runs at a time.

STARTTLS: ports of the built-in table speak their plain-text protocol
first and are upgraded before the handshake: 25 and 587 smtp, 24 lmtp,
110 pop3, 143 imap, 389 ldap, 21 ftp, 5222 xmpp, 5269 xmpp-server, 5432
postgres, 3306 mysql, 3389 rdp, 4190 sieve, 119 nntp, 23 telnet.
--starttls PORT=PROTOCOL adds or changes entries, PORT=none
makes a port implicit TLS, --starttls none turns the table off. Port lists
take the named sets "default" (the nine implicit-TLS ports) and
"starttls" (the table's ports). A server that refuses the upgrade gives
the outcome starttls_refused with its reply; one that speaks another
protocol gives not_tls with its banner.

Virtual hosts: an IP target that answers is probed again with each name
its certificate is issued for (wildcards skipped), with --sni's names and,
when --resolver is given, with its PTR names (at most --sni-max); a name
that reveals another certificate is recorded as its own endpoint
(sni_source, differs_from_default). --sni-discovery off turns it off.

DNS: --domain (or ers discover --domain) sweeps what a domain announces:
its MX hosts on 25 (SMTP STARTTLS), the targets of its SRV records
(_submission, _imap(s), _pop3(s), _ldap(s), _xmpp-client/-server,
_caldavs, _carddavs, _sips, _https, _keytransparency) with the protocol
each implies, and the domain itself. --resolver ADDRESS[:PORT] asks that
DNS server for everything.

Examples:
  ers scan
  ers scan --mode full --concurrency 20000 --rate 5000 --output scan.jsonl
  ers scan --ips 127.0.0.0/24 --ports 443,8443 --handshake-timeout 2s
  ers scan --servers web.example.com --resolve web.example.com=127.0.0.1
  ers scan --resume
  ers scan --resume=auto --fail-on critical    for cron: resume if interrupted
  ers scan --dry-run                  show the plan and the first targets
  ers scan --dry-run --seed 7 --shard 2/4   the part machine 2 of 4 does (one seed on all 4)
  ers scan --dry-run --ips 127.0.0.0/24 --ports 443,8443
  ers scan --ips 127.0.0.1 --ports default,starttls    implicit TLS and STARTTLS
  ers scan --ips 127.0.0.1 --ports 2525 --starttls 2525=smtp
  ers scan --ips 127.0.0.1 --sni www.example.com --sni-max 4
  ers scan --domain example.com --resolver 127.0.0.1:5353 --dry-run

Flags:
)";

constexpr const char* kSeedSetting = "scan_seed";
constexpr uint64_t kDefaultShow = 10;

std::string Grouped(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// ResolveSeed returns the --seed value, or the inventory's stored seed
// (created on first use), so consecutive runs and resumes walk one order.
absl::StatusOr<uint64_t> ResolveSeed(ConfigStore& store,
                                     const std::optional<std::string>& flag) {
  uint64_t seed = 0;
  if (flag.has_value()) {
    if (!absl::SimpleAtoi(*flag, &seed)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--seed \"", *flag, "\" is not an unsigned 64-bit number"));
    }
    return seed;
  }
  absl::StatusOr<std::optional<std::string>> stored =
      store.GetSetting(kSeedSetting);
  if (!stored.ok()) return stored.status();
  if (stored->has_value() && absl::SimpleAtoi(**stored, &seed)) return seed;
  std::random_device rd;
  seed = (uint64_t{rd()} << 32) | rd();
  if (absl::Status s = store.SetSetting(kSeedSetting, absl::StrCat(seed));
      !s.ok()) {
    return s;
  }
  return seed;
}

// AdHocEntries turns --servers/--ips/--ports given to scan into entries.
absl::StatusOr<std::vector<DiscoverEntry>> AdHocEntries(
    const std::optional<std::string>& servers,
    const std::optional<std::string>& ips,
    const std::optional<std::string>& ports) {
  PortList port_list = PortList::Defaults();
  if (ports.has_value()) {
    absl::StatusOr<PortList> p = PortList::Parse(*ports);
    if (!p.ok()) return p.status();
    port_list = *std::move(p);
  }
  std::vector<DiscoverEntry> entries;
  if (servers.has_value()) {
    absl::StatusOr<std::vector<Server>> parsed = ParseServers(*servers);
    if (!parsed.ok()) return parsed.status();
    for (const Server& s : *parsed) {
      entries.push_back({EntryKind::kServer, s.host, port_list, 0, 0});
    }
  }
  if (ips.has_value()) {
    absl::StatusOr<std::vector<IpRange>> parsed = ParseIpRanges(*ips);
    if (!parsed.ok()) return parsed.status();
    for (const IpRange& r : *parsed) {
      entries.push_back({EntryKind::kIpRange, r.ToString(), port_list, 0, 0});
    }
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        "--ports needs --servers or --ips when given to ers scan");
  }
  return entries;
}






// The sweep that SIGINT and SIGTERM stop (Sweep::Stop is async-signal-safe)
// and the progress that announces it.
Sweep* g_running_sweep = nullptr;
Progress* g_progress = nullptr;
volatile sig_atomic_t g_stop_signals = 0;

// StopRunningSweep: the first signal stops the sweep gently (probes in
// flight finish and are recorded); the second ends the process at once.
// What the last checkpoint committed (results and the resume point, at most
// one --checkpoint-interval old) stays, as after kill -9, and the next scan marks the run
// killed.
void StopRunningSweep(int) {
  if (++g_stop_signals >= 2) {
    static const char kNow[] =
        "\ners: stopped now; ers scan --resume continues from the last checkpoint\n";
    ssize_t ignored = write(STDERR_FILENO, kNow, sizeof(kNow) - 1);
    (void)ignored;
    _exit(kExitPartial);
  }
  if (g_running_sweep != nullptr) g_running_sweep->Stop();
  if (g_progress != nullptr) g_progress->StopRequested();
}

// VerboseSink prints one line per result on standard error (-v): where,
// the outcome and why, the leaf for TLS; with --debug also the attempts,
// fallback rung, timings and bytes.
class VerboseSink : public Sink {
 public:
  VerboseSink(FILE* out, const Colors* colors, bool debug)
      : out_(out), colors_(colors), debug_(debug) {}
  absl::Status Record(const ScanRecord& record) override {
    const ProbeResult& r = record.result;
    std::string host = r.address.family == IpFamily::kV6
                           ? absl::StrCat("[", r.address.ToString(), "]")
                           : r.address.ToString();
    std::string line = absl::StrCat(host, ":", r.port);
    if (!r.name.empty()) absl::StrAppend(&line, " (", r.name, ")");
    const char* outcome = OutcomeName(r.outcome);
    absl::StrAppend(&line, " ", colors_->Outcome(outcome, outcome));
    if (r.outcome == Outcome::kTls) {
      absl::StrAppend(&line, " ", r.version_name);
      if (record.chain != nullptr && !record.chain->certificates.empty()) {
        const CertificateInfo& c = record.chain->certificates[0];
        absl::StrAppend(&line, " ", Printable(c.subject_cn.empty() ? c.subject : c.subject_cn),
                        " expires ",
                        absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(c.not_after_unix),
                                         absl::UTCTimeZone()));
        for (const FindingInfo& f : record.chain->findings) {
          absl::StrAppend(&line, " ", colors_->Severity(f.severity, f.id));
        }
      }
    } else if (!r.detail.empty()) {
      absl::StrAppend(&line, " (", Printable(r.detail), ")");
    }
    if (!r.sni.empty()) absl::StrAppend(&line, " sni ", Printable(r.sni));
    if (debug_) {
      absl::StrAppend(&line, absl::StrFormat(
                                 " [attempts %d, rung %s, connect %.1f ms, handshake %.1f ms, "
                                 "%d bytes]",
                                 r.attempts, r.rung_name, r.connect_ms, r.handshake_ms,
                                 r.bytes_received));
    }
    fprintf(out_, "%s\n", line.c_str());
    return absl::OkStatus();
  }

 private:
  FILE* out_;
  const Colors* colors_;
  bool debug_;
};

std::string FormatSummary(const SweepSummary& s,
                          const std::vector<std::string>& tls_endpoints) {
  std::string out = absl::StrFormat(
      "%s: %d targets, %d results in %.1f s (%.0f results/s; %d worker%s, "
      "concurrency %d, open-file limit %d)\n",
      s.interrupted ? "interrupted" : "done", s.targets_walked, s.results,
      s.elapsed_s, s.elapsed_s > 0 ? s.results / s.elapsed_s : 0.0, s.workers,
      s.workers == 1 ? "" : "s", s.concurrency, s.file_limit);
  static constexpr Outcome kOrder[] = {
      Outcome::kTls,    Outcome::kRefused,  Outcome::kTimeout,
      Outcome::kReset,  Outcome::kNotTls,   Outcome::kTlsAlert,
      Outcome::kStarttlsRefused, Outcome::kTlsError, Outcome::kUnreachable, Outcome::kError,
      Outcome::kUnresolved,
      Outcome::kExcluded};
  for (Outcome o : kOrder) {
    uint64_t n = s.by_outcome[static_cast<size_t>(o)];
    if (n > 0) absl::StrAppend(&out, "  ", OutcomeName(o), ": ", n, "\n");
  }
  if (s.sni_probes > 0) {
    absl::StrAppend(&out, "SNI discovery: ", s.sni_probes, " probes, ", s.sni_virtual_hosts,
                    " virtual host", s.sni_virtual_hosts == 1 ? "" : "s",
                    " (a certificate other than the address's default)\n");
  }
  if (s.aia_fetched + s.aia_cache_hits + s.aia_refused > 0) {
    absl::StrAppend(&out, "AIA issuers: ", s.aia_fetched, " fetched, ", s.aia_cache_hits,
                    " from the cache, ", s.aia_refused, " refused (excluded address or "
                    "scheme), ", s.aia_failed, " failed\n");
  }
  if (s.crl_fetched + s.crl_cache_hits > 0) {
    absl::StrAppend(&out, "CRLs: ", s.crl_fetched, " fetched, ", s.crl_cache_hits,
                    " from the cache, ", s.crl_failed, " failed\n");
  }
  if (s.ocsp_queries > 0) {
    absl::StrAppend(&out, "OCSP responders: ", s.ocsp_queries, " asked, ", s.ocsp_failed,
                    " failed\n");
  }
  if (!tls_endpoints.empty()) {
    absl::StrAppend(&out, "TLS endpoints",
                    s.by_outcome[0] > tls_endpoints.size() ? " (first 20)" : "", ":\n");
    for (const std::string& line : tls_endpoints) absl::StrAppend(&out, "  ", line, "\n");
  }
  if (!s.findings.empty()) {
    absl::StrAppend(&out, "findings (endpoints):\n");
    for (const auto& [id, n] : s.findings) {
      absl::StrAppend(&out, absl::StrFormat("  %-24s %d\n", id, n));
    }
  }
  if (s.backpressure_events > 0) {
    absl::StrAppend(&out, "  back-pressure events (EMFILE/ENOBUFS): ",
                    s.backpressure_events, "\n");
  }
  return out;
}

absl::Status SplitFiles(const std::string& list, std::vector<std::string>* out) {
  absl::StatusOr<std::vector<absl::string_view>> files = SplitList(list, "file list");
  if (!files.ok()) return files.status();
  for (absl::string_view f : *files) out->emplace_back(f);
  return absl::OkStatus();
}

}  // namespace

int RunScan(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> servers, ips, ports, seed_flag, shard_flag,
      exclude_file, db, mode, sni, alpn, resolve, output, roots, intermediates,
      policy, starttls, sni_discovery, domain, resolver;
  std::optional<uint64_t> show_flag, concurrency, rate, per_address_cap,
      retries, workers, spool_max_bytes, sni_max;
  std::optional<absl::Duration> connect_timeout, handshake_timeout, push_timeout, aia_timeout,
      checkpoint_interval;
  std::optional<std::string> resume_flag, targets_file, exclude, revocation;
  FailOn fail_on;
  Colors colors;
  bool verbose = false, debug = false;
  bool dry_run = false, resume = false, quiet = false, summary_flag = false,
       no_push = false, no_system_roots = false, no_analysis = false, no_aia = false,
       no_fallback = false, allow_special = false, push_adhoc = false;
  FlagSet flags("scan");
  flags.Bool("dry-run", "print the plan and the first targets; send nothing",
             &dry_run);
  flags.String("servers", "LIST", "scan these servers instead of the "
               "configured ones (@FILE: from a file)", &servers);
  flags.String("ips", "LIST", "scan these IP ranges instead of the configured "
               "ones (@FILE: from a file)", &ips);
  flags.String("targets-file", "FILE", "scan the servers and IP ranges in FILE instead "
               "(one or more per line, '#' comments; nmap's -iL)", &targets_file);
  flags.Alias("-iL", "targets-file");
  flags.String("exclude", "LIST", "also never probe these CIDRs, addresses and ranges "
               "(comma-separated, @FILE)", &exclude);
  flags.String("ports", "LIST", "ports for --servers/--ips (default: the "
               "default table)", &ports);
  flags.String("seed", "N", "order of the walk (default: the inventory's "
               "stored seed)", &seed_flag);
  flags.String("shard", "k/N|auto", "scan only part k of N (1 <= k <= N); shards "
               "with one seed split the targets exactly; auto: k from JOB_COMPLETION_INDEX "
               "(0-based, a Kubernetes Indexed Job), N from ERS_SHARDS", &shard_flag);
  flags.Count("show", "with --dry-run, how many targets to list (default 10)",
              0, 1000000, &show_flag);
  flags.String("exclude-file", "PATH", "use this exclusion file instead of "
               "the configured one", &exclude_file);
  flags.Bool("allow-special-addresses", "probe special-purpose space too (this "
             "host 0.0.0.0/8 and ::, multicast, reserved)", &allow_special);
  flags.String("mode", "certs|full", "certs: capture the chain and abort "
               "(default, cheapest); full: complete the handshake", &mode);
  flags.Count("concurrency", "connections in flight (default: sized to "
              "the open-file limit, at most 10000)", 0, 1000000, &concurrency);
  flags.Count("rate", "connection attempts per second, retries and "
              "fallback reconnects included (default: unlimited)", 0, 10000000, &rate);
  flags.Count("per-address-cap", "connections in flight to one "
              "address (default 32)", 1, 100000, &per_address_cap);
  flags.Duration("connect-timeout", "TCP connect timeout (default 5s)",
                 absl::Milliseconds(1), absl::Hours(1), &connect_timeout);
  flags.Duration("handshake-timeout", "TLS handshake timeout (default 10s)",
                 absl::Milliseconds(1), absl::Hours(1), &handshake_timeout);
  flags.Duration("checkpoint-interval", "how often results and the resume point are "
                 "committed; a scan killed outright repeats at most this much work "
                 "(default 1s)",
                 absl::Milliseconds(10), absl::Hours(1), &checkpoint_interval);
  flags.Count("retries", "retries of a connect that timed out (default 1)",
              0, 10, &retries);
  flags.Bool("no-fallback", "do not retry rejected hellos with older TLS "
             "versions", &no_fallback);
  flags.String("sni", "LIST", "server names to try on IP targets, one probe "
               "each, after the probe without SNI (\"none\" for no SNI; with "
               "--sni-discovery off, instead of it)", &sni);
  flags.String("domain", "LIST", "scan the services these DNS domains announce (MX, SRV "
               "records, the domain itself) instead of the configuration", &domain);
  flags.String("resolver", "ADDRESS[:PORT]", "the DNS server for domains and host names "
               "(default: ers discover --resolver, else the system's)", &resolver);
  flags.String("sni-discovery", "on|off", "probe each IP target that answers again with "
               "each name its certificate is issued for, to find the virtual hosts behind "
               "it (default on)", &sni_discovery);
  flags.Count("sni-max", "names tried per endpoint by SNI discovery (default 16)", 1, 1024,
              &sni_max);
  flags.String("alpn", "LIST", "ALPN protocols to offer, e.g. h2,http/1.1",
               &alpn);
  flags.String("starttls", "SPEC", "ports upgraded with STARTTLS: PORT=PROTOCOL entries "
               "on top of the built-in table (25,587 smtp, 143 imap, 110 pop3, 389 ldap, "
               "...; see ers help scan), or none (default: ers discover --starttls)",
               &starttls);
  flags.String("resolve", "LIST", "NAME=ADDRESS pairs used instead of DNS",
               &resolve);
  flags.String("output", "PATH", "also write the results as JSON Lines here "
               "(- for standard output)", &output);
  flags.Count("workers", "worker processes, one event loop each (default: as "
              "many as the open-file limit needs for --concurrency)", 0, 1024,
              &workers);
  flags.String("roots", "FILES", "also trust the roots in these PEM files "
               "(enterprise PKIs), comma-separated (default: ers discover --roots)", &roots);
  flags.String("intermediates", "FILES", "PEM files of known intermediates, "
               "used to complete chains servers leave incomplete",
               &intermediates);
  flags.Bool("no-system-roots", "do not trust the system's CA bundle",
             &no_system_roots);
  flags.Bool("no-aia", "do not fetch the issuer a chain lacks from its AIA caIssuers URL "
             "(by default fetched over http/https, at most 64 KiB, never from an excluded "
             "address, cached for 7 days next to the inventory)", &no_aia);
  flags.String("revocation", "ocsp|crl", "ocsp: also ask the OCSP responder of each leaf "
               "whose server staples no response; crl: fetch the CRLs the chain's certificates "
               "name (by default only stapled responses are judged)",
               &revocation);
  flags.Duration("aia-timeout", "time allowed for one AIA or OCSP fetch (default 5s)",
                 absl::Milliseconds(100), absl::Minutes(5), &aia_timeout);
  flags.String("policy", "FILE", "finding thresholds (see docs/findings.md)",
               &policy);
  flags.Bool("no-analysis", "write chains without validating them",
             &no_analysis);
  flags.OptionalValue("resume", "auto", "continue an interrupted scan from its resume point; "
                      "=auto: resume when there is one for this sweep, else start afresh",
                      "yes", &resume_flag);
  flags.Bool("quiet", "no summary on standard error", &quiet);
  fail_on.Declare(flags);
  flags.Alias("-p", "ports");
  flags.Alias("-o", "output");
  flags.Alias("-q", "quiet");
  flags.Bool("verbose", "one line per result on standard error (where, outcome, why, "
             "the leaf and its findings)", &verbose);
  flags.Alias("-v", "verbose");
  flags.Bool("debug", "-v with each probe's attempts, fallback rung, timings and bytes",
             &debug);
  colors.Declare(flags);
  flags.Bool("no-push", "spool the results for the CLM but do not send them now "
             "(ers push does)", &no_push);
  flags.Bool("push", "with --servers/--ips: send this ad-hoc scan to the CLM too (by "
             "default only configured sweeps go there)", &push_adhoc);
  flags.Duration("push-timeout", "the push to the CLM after the scan takes at most this long "
                 "(default 60s); what is not sent stays spooled for ers push",
                 absl::Seconds(1), absl::Hours(24), &push_timeout);
  flags.Count("spool-max-bytes", "bound on the batches waiting for the CLM (default 1 GiB); "
              "past it runs stay in the inventory until ers push has room",
              1, uint64_t{1} << 50, &spool_max_bytes);
  flags.Bool("summary", "print the summary even when standard error is not "
             "a terminal (cron prints only errors)", &summary_flag);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kScanHelp, io)) {
    return *done;
  }

  if (resume_flag.has_value() && *resume_flag != "yes" && *resume_flag != "auto") {
    return ReportError(io, absl::InvalidArgumentError(absl::StrCat(
                               "--resume=", *resume_flag, ": the only value is auto")));
  }
  if (absl::Status s = colors.Decide(io.err); !s.ok()) return ReportError(io, s);
  verbose |= debug;
  resume = resume_flag.has_value();
  const bool resume_auto = resume_flag == "auto";
  absl::StatusOr<std::optional<Severity>> fail_severity = fail_on.Parsed();
  if (!fail_severity.ok()) return ReportError(io, fail_severity.status());
  const bool show_summary = !quiet && (summary_flag || isatty(fileno(io.err)));

  SweepOptions options;
  if (shard_flag.has_value() && *shard_flag == "auto") {
    // A Kubernetes Indexed Job: JOB_COMPLETION_INDEX is 0-based; the
    // number of completions comes with the job's configuration.
    const char* index = getenv("JOB_COMPLETION_INDEX");
    const char* count = getenv("ERS_SHARDS");
    uint32_t k = 0;
    if (index == nullptr || count == nullptr || !absl::SimpleAtoi(index, &k) ||
        k >= UINT32_MAX) {
      return ReportError(io, absl::InvalidArgumentError(
                                 "--shard auto needs JOB_COMPLETION_INDEX (0-based, set by a "
                                 "Kubernetes Indexed Job) and ERS_SHARDS (the number of shards)"));
    }
    shard_flag = absl::StrCat(k + 1, "/", count);
  }
  if (shard_flag.has_value()) {
    absl::StatusOr<Shard> s = ParseShard(*shard_flag);
    if (!s.ok()) return ReportError(io, s.status());
    options.shard_index = s->index;
    options.shard_count = s->count;
  }
  if (mode.has_value()) {
    if (*mode != "full" && *mode != "certs") {
      return ReportError(io, absl::InvalidArgumentError(absl::StrCat(
                                 "--mode \"", *mode, "\" must be certs or full")));
    }
    options.mode = *mode == "full" ? ProbeMode::kFull : ProbeMode::kCerts;
  }
  if (concurrency.has_value()) options.concurrency = static_cast<uint32_t>(*concurrency);
  if (rate.has_value()) options.rate = static_cast<double>(*rate);
  if (per_address_cap.has_value()) options.per_address_cap = static_cast<uint32_t>(*per_address_cap);
  if (connect_timeout.has_value()) options.connect_timeout = *connect_timeout;
  if (handshake_timeout.has_value()) options.handshake_timeout = *handshake_timeout;
  if (checkpoint_interval.has_value()) options.checkpoint_interval = *checkpoint_interval;
  if (retries.has_value()) options.connect_retries = static_cast<int>(*retries);
  if (workers.has_value()) options.workers = static_cast<uint32_t>(*workers);
  options.fallback = !no_fallback;
  options.allow_special_addresses = allow_special;
  if (alpn.has_value()) {
    absl::StatusOr<std::vector<absl::string_view>> protos = SplitList(*alpn, "--alpn list");
    if (!protos.ok()) return ReportError(io, protos.status());
    for (absl::string_view p : *protos) options.alpn.emplace_back(p);
  }
  if (sni.has_value()) {
    // "none" stands for "no SNI" in the list.
    for (absl::string_view name : absl::StrSplit(*sni, ',')) {
      name = absl::StripAsciiWhitespace(name);
      options.sni.emplace_back(name == "none" ? "" : name);
    }
  }
  if (sni_discovery.has_value()) {
    if (*sni_discovery != "on" && *sni_discovery != "off") {
      return ReportError(io, absl::InvalidArgumentError(absl::StrCat(
                                 "--sni-discovery takes on or off, not \"", *sni_discovery, "\"")));
    }
    options.sni_discovery = *sni_discovery == "on";
  }
  if (sni_max.has_value()) options.sni_max = static_cast<uint32_t>(*sni_max);
  options.analyse = !no_analysis;
  options.system_roots = !no_system_roots;
  options.aia = !no_aia;
  if (revocation.has_value()) options.revocation = *revocation;
  if (options.aia || !options.revocation.empty()) {
    options.aia_downloader = NewCurlIssuerDownloader();
  }
  if (aia_timeout.has_value()) options.aia_timeout = *aia_timeout;

  absl::StatusOr<std::unique_ptr<Inventory>> opened = OpenInventory(db);
  if (!opened.ok()) return ReportError(io, opened.status());
  Inventory& inventory = **opened;
  if (const size_t slash = inventory.path().rfind('/'); slash != std::string::npos) {
    options.aia_cache_dir = inventory.path().substr(0, slash) + "/aia-cache";
  }
  ConfigStore& config = inventory.config();

  // Lists from files: @FILE, and -iL's mixed targets.
  if (absl::Status s = ExpandTargetFlags(targets_file, &servers, &ips, &exclude); !s.ok()) {
    return ReportError(io, s);
  }
  // Exclusions: the stored --exclude list, and this run's.
  {
    absl::StatusOr<std::optional<std::string>> stored = config.GetSetting(kExcludeSetting);
    if (!stored.ok()) return ReportError(io, stored.status());
    options.exclusions = stored->value_or("");
    if (exclude.has_value()) {
      absl::StatusOr<std::string> lines = ExclusionLines(*exclude);
      if (!lines.ok()) return ReportError(io, lines.status());
      absl::StrAppend(&options.exclusions, options.exclusions.empty() ? "" : "\n", *lines);
    }
  }
  // Targets on the command line make an ad-hoc run: recorded and listed,
  // but neither "the latest sweep" of reports nor sent to the CLM unless
  // --push asks.
  const bool adhoc =
      servers.has_value() || ips.has_value() || ports.has_value() || domain.has_value();
  if (push_adhoc && !adhoc) {
    return ReportError(io, absl::InvalidArgumentError(
                               "--push is for ad-hoc scans (--servers/--ips); configured "
                               "sweeps go to the CLM anyway"));
  }
  if (push_adhoc && no_push) {
    return ReportError(io, absl::InvalidArgumentError("--push and --no-push contradict"));
  }
  absl::StatusOr<std::vector<DiscoverEntry>> entries =
      !adhoc                                   ? config.List()
      : servers.has_value() || ips.has_value() ? AdHocEntries(servers, ips, ports)
                                               : std::vector<DiscoverEntry>();
  if (!entries.ok()) return ReportError(io, entries.status());
  absl::StatusOr<std::string> domains = adhoc ? absl::StatusOr<std::string>(domain.value_or(""))
                                              : SettingOr(config, std::nullopt, kDomainsSetting);
  if (!domains.ok()) return ReportError(io, domains.status());
  if (!domains->empty()) {
    absl::StatusOr<std::vector<absl::string_view>> list = SplitList(*domains, "--domain list");
    if (!list.ok()) return ReportError(io, list.status());
    for (absl::string_view d : *list) options.domains.emplace_back(absl::AsciiStrToLower(d));
  }
  absl::StatusOr<std::string> resolver_spec = SettingOr(config, resolver, kResolverSetting);
  if (!resolver_spec.ok()) return ReportError(io, resolver_spec.status());
  options.resolver = *resolver_spec;
  if (domain.has_value() && ports.has_value() && !servers.has_value() && !ips.has_value()) {
    options.ports = *ports;  // the domains' own names
  }
  if (entries->empty() && options.domains.empty()) {
    return ReportError(io, absl::InvalidArgumentError(
                               "nothing to scan: configure targets with ers "
                               "discover --servers/--ips first"));
  }
  for (const DiscoverEntry& e : *entries) {
    TargetGroup g;
    (e.kind == EntryKind::kServer ? g.servers : g.ips) = e.spec;
    g.ports = e.ports.ToString();
    options.groups.push_back(std::move(g));
  }
  // Trust and policy: the flags, else what ers discover stored.
  for (const auto& [flag, key, files] :
       {std::make_tuple(&roots, kRootsSetting, &options.root_files),
        std::make_tuple(&intermediates, kIntermediatesSetting, &options.intermediate_files)}) {
    absl::StatusOr<std::string> list = SettingOr(config, *flag, key);
    if (!list.ok()) return ReportError(io, list.status());
    if (!list->empty()) {
      if (absl::Status s = SplitFiles(*list, files); !s.ok()) return ReportError(io, s);
    }
  }
  absl::StatusOr<std::string> policy_file = SettingOr(config, policy, kPolicySetting);
  if (!policy_file.ok()) return ReportError(io, policy_file.status());
  options.policy_file = *policy_file;
  absl::StatusOr<std::string> starttls_spec = SettingOr(config, starttls, kStarttlsSetting);
  if (!starttls_spec.ok()) return ReportError(io, starttls_spec.status());
  options.starttls = *starttls_spec;
  std::string exclusion_source = exclude_file.value_or("");
  if (!exclude_file.has_value()) {
    absl::StatusOr<std::optional<std::string>> configured =
        config.GetSetting(kExcludeFileSetting);
    if (!configured.ok()) return ReportError(io, configured.status());
    exclusion_source = configured->value_or("");
  }
  options.exclusion_file = exclusion_source;
  if (options.shard_count > 1 && !seed_flag.has_value()) {
    // Shards partition one walk only when every machine walks it with the
    // same seed; a fresh inventory (a new pod) would draw its own.
    absl::StatusOr<std::optional<std::string>> stored = config.GetSetting(kSeedSetting);
    if (!stored.ok()) return ReportError(io, stored.status());
    if (!stored->has_value()) {
      return ReportError(io, absl::InvalidArgumentError(absl::StrCat(
                                 "--shard ", options.shard_index, "/", options.shard_count,
                                 " needs --seed N, the same on every machine of the sweep: "
                                 "this inventory has no seed of its own yet, and shards walked "
                                 "with different seeds overlap and miss targets")));
    }
  }
  absl::StatusOr<uint64_t> seed = ResolveSeed(config, seed_flag);
  if (!seed.ok()) return ReportError(io, seed.status());
  options.seed = *seed;
  if (resolve.has_value()) {
    options.resolve = *resolve;
  } else {
    // Names mapped with ers discover --resolve.
    absl::StatusOr<std::optional<std::string>> stored = config.GetSetting(kResolveSetting);
    if (!stored.ok()) return ReportError(io, stored.status());
    options.resolve = stored->value_or("");
  }
  if (resume) {
    absl::StatusOr<std::string> point = inventory.ResumePoint();
    if (!point.ok()) return ReportError(io, point.status());
    if (point->empty() && !resume_auto) {
      return ReportError(io, absl::InvalidArgumentError(
                                 "--resume: no interrupted scan to resume (--resume=auto "
                                 "starts afresh then)"));
    }
    options.resume_point = *point;
    if (point->empty()) {
      resume = false;
      if (show_summary) fprintf(io.err, "ers: nothing to resume: starting a new sweep\n");
    }
  }

  if (dry_run) {
    // What the domains announce, resolved now (the sweep does it again).
    DomainExpansion expansion;
    if (absl::Status s = ExpandDomainsInto(&options, &expansion); !s.ok()) {
      return ReportError(io, s);
    }
    absl::StatusOr<TargetSpace> space = BuildTargetSpace(options);
    if (!space.ok()) return ReportError(io, space.status());
    Shard shard{options.shard_index, options.shard_count};
    TargetWalker walker(&*space, *seed, shard);
    std::vector<std::string> points = absl::StrSplit(options.resume_point, '\n', absl::SkipEmpty());
    if (points.size() == 1) {
      if (absl::Status s = walker.RestorePosition(points[0]); !s.ok()) return ReportError(io, s);
    }
    fprintf(io.out, "scan plan (dry run: nothing is sent)\n");
    fprintf(io.out, "  inventory:  %s\n", inventory.path().c_str());
    for (const DiscoverEntry& e : *entries) {
      fprintf(io.out, "  %-7s %-32s ports %s\n",
              e.kind == EntryKind::kServer ? "server" : "ips", e.spec.c_str(),
              e.ports.ToString().c_str());
    }
    for (const DomainTarget& t : expansion.targets) {
      fprintf(io.out, "  %-7s %-32s %s%s%s (from %s)\n", "domain", t.host.c_str(),
              t.port == 0 ? "ports " : "port ",
              t.port == 0 ? (options.ports.empty() ? PortList::Defaults().ToString().c_str()
                                                   : options.ports.c_str())
                          : absl::StrCat(t.port).c_str(),
              t.starttls == Starttls::kNone ? "" : absl::StrCat(" ", StarttlsName(t.starttls)).c_str(),
              t.source.c_str());
    }
    for (const std::string& problem : expansion.problems) {
      fprintf(io.out, "  dns problem: %s\n", problem.c_str());
    }
    if (!options.resolver.empty()) fprintf(io.out, "  resolver:   %s\n", options.resolver.c_str());
    if (!options.exclusions.empty()) {
      fprintf(io.out, "  exclusions: %s (--exclude)\n",
              absl::StrReplaceAll(options.exclusions, {{"\n", ","}}).c_str());
    }
    if (exclusion_source.empty()) {
      if (options.exclusions.empty()) fprintf(io.out, "  exclusions: none\n");
    } else {
      absl::StatusOr<PrefixSet> excluded = LoadExclusionFile(exclusion_source);
      fprintf(io.out, "  exclusions: %zu prefixes from %s\n",
              excluded.ok() ? excluded->num_prefixes() : 0, exclusion_source.c_str());
    }
    fprintf(io.out,
            "  targets:    %s (%s addresses and %s host names, resolved at "
            "scan time; %zu blocks)\n",
            Grouped(space->size()).c_str(), Grouped(space->num_addresses()).c_str(),
            Grouped(space->num_names()).c_str(), space->blocks().size());
    fprintf(io.out, "  order:      seed %" PRIu64 ", shard %u/%u: %s targets\n",
            *seed, shard.index, shard.count, Grouped(walker.shard_size()).c_str());
    const uint64_t n = std::min<uint64_t>(show_flag.value_or(kDefaultShow), walker.shard_size());
    fprintf(io.out, "  first %" PRIu64 " targets in scan order:\n", n);
    Target t;
    for (uint64_t i = 0; i < n && walker.Next(&t); ++i) {
      std::string host = t.has_address ? t.address.ToString() : std::string(t.name);
      if (t.has_address && t.address.family == IpFamily::kV6) host = absl::StrCat("[", host, "]");
      fprintf(io.out, "    %s:%u\n", host.c_str(), t.port);
    }
    return kExitOk;
  }

  // One scan per inventory at a time.
  absl::StatusOr<ScanLock> lock = ScanLock::Acquire(inventory.path());
  if (!lock.ok()) return ReportError(io, lock.status());
  // Raising the open-file limit is the program's act, before the sweep
  // sizes itself to it.
  absl::StatusOr<uint64_t> limit = RaiseFileLimit(
      uint64_t{options.concurrency != 0 ? options.concurrency : kDefaultConcurrency} +
      kReservedFds);
  if (!limit.ok()) return ReportError(io, limit.status());
  const RunKind kind = adhoc ? RunKind::kAdHoc : RunKind::kConfigured;
  absl::StatusOr<std::unique_ptr<Sweep>> sweep = Sweep::Create(options);
  if (resume_auto && resume && absl::IsFailedPrecondition(sweep.status())) {
    // The resume point is another sweep's (the configuration changed):
    // with auto, start this one afresh.
    if (show_summary) {
      fprintf(io.err, "ers: the resume point belongs to another sweep (%s): starting afresh\n",
              std::string(sweep.status().message()).c_str());
    }
    options.resume_point.clear();
    resume = false;
    sweep = Sweep::Create(options);
  } else if (resume && sweep.ok() && show_summary) {
    fprintf(io.err, "ers: resuming the interrupted sweep\n");
  }
  if (!sweep.ok()) {
    // A scheduled sweep that cannot start (everything excluded, a trust
    // file gone) is a run that failed, so reports say so instead of
    // showing the last one that worked as current.
    absl::StatusOr<int64_t> failed = inventory.BeginRun("{}", kind, /*for_clm=*/false);
    if (failed.ok()) {
      (void)inventory.FinishRun(*failed, "failed", 0, 0, sweep.status().message());
    }
    return ReportError(io, sweep.status());
  }
  for (const std::string& w : (*sweep)->warnings()) fprintf(io.err, "ers: warning: %s\n", w.c_str());

  FILE* out = nullptr;
  // Declared before |file|, so that it outlives the stream that uses it.
  std::vector<char> out_buffer;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &fclose);
  if (output.has_value()) {
    if (*output == "-") {
      out = io.out;
    } else {
      if (resume) {
        // A line cut short when the last run stopped (a full disk, a kill)
        // would run into the next one: drop it first.
        if (absl::Status t = TruncatePartialLine(*output); !t.ok()) return ReportError(io, t);
      }
      file.reset(fopen(output->c_str(), resume ? "a" : "w"));
      if (!file) {
        return ReportError(io, absl::PermissionDeniedError(absl::StrCat(
                                   "cannot write ", *output, ": ", strerror(errno))));
      }
      // Lines carry their chains (2-5 KiB): a large buffer turns them into
      // a few writes per checkpoint instead of one per line or two. (glibc
      // ignores the size when setvbuf is given no buffer: ours, then.)
      out_buffer.resize(1 << 20);
      setvbuf(file.get(), out_buffer.data(), _IOFBF, out_buffer.size());
      out = file.get();
    }
  }
  nlohmann::json run_options = {
      {"seed", *seed},
      {"shard", absl::StrCat(options.shard_index, "/", options.shard_count)},
      {"mode", ProbeModeName(options.mode)},
      {"concurrency", options.concurrency},
      {"rate", options.rate},
      {"sni_discovery", options.sni_discovery},
      {"resume", resume},
      {"targets", (*sweep)->num_targets()}};
  absl::StatusOr<std::unique_ptr<ScanRun>> scan_run =
      ScanRun::Begin(&inventory, run_options.dump(), kind, !adhoc || push_adhoc);
  if (!scan_run.ok()) return ReportError(io, scan_run.status());

  // Every record: to the JSON Lines output if asked (first, so that the
  // inventory's checkpoint never covers a line not on disk), into the
  // inventory. The progress line is live on a terminal, unless the results
  // themselves go to standard output.
  const bool results_on_stdout = output == "-";
  Progress progress(io.err, sweep->get(),
                    !quiet && !verbose && !results_on_stdout && isatty(fileno(io.err)) != 0);
  std::unique_ptr<JsonLinesSink> json_sink;
  std::vector<Sink*> sinks;
  if (out != nullptr) {
    // fsync only regular files: a pipe, a terminal or /dev/null has nothing
    // to make durable (fsync fails on them with EINVAL).
    struct stat out_stat;
    const bool regular = out != io.out && fstat(fileno(out), &out_stat) == 0 &&
                         S_ISREG(out_stat.st_mode);
    json_sink = std::make_unique<JsonLinesSink>(out, output.value_or("output"), regular);
    sinks.push_back(json_sink.get());
  }
  sinks.push_back((*scan_run)->sink());
  VerboseSink verbose_sink(io.err, &colors, debug);
  if (verbose) sinks.push_back(&verbose_sink);

  g_running_sweep = sweep->get();
  g_progress = &progress;
  g_stop_signals = 0;
  progress.Start();
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = StopRunningSweep;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  absl::Status run = (*sweep)->Run(sinks);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_running_sweep = nullptr;
  g_progress = nullptr;
  progress.Finish();
  const SweepSummary& summary = (*sweep)->summary();
  // A sink that failed (a full disk) or a worker that died stopped the
  // sweep: what was recorded stays, and the resume point repeats the rest.
  const std::string resume_point = (*sweep)->resume_point();
  const bool stopped = summary.interrupted || !run.ok() || !resume_point.empty();
  absl::Status finished = (*scan_run)->Finish(summary, run, resume_point);
  if (!finished.ok() && run.ok()) return ReportError(io, finished);
  // Push the run to the CLM, when one is configured: spooled first, so a
  // failure here loses nothing (ers push retries).
  // The push is bounded (--push-timeout) and runs without the scan lock:
  // a hanging CLM neither keeps cron waiting for long nor blocks the next
  // scan; what is not delivered stays spooled.
  PushOptions push_options;
  push_options.max_attempts = no_push ? 0 : 3;
  push_options.deadline = absl::Now() + push_timeout.value_or(absl::Seconds(60));
  bool pushed_all = true;
  const bool for_clm = !adhoc || push_adhoc;
  const int push_exit =
      !for_clm ? kExitOk
      : run.ok() ? SpoolAndPush(inventory.path(), inventory, push_options,
                                spool_max_bytes.value_or(kDefaultSpoolMaxBytes), io, &pushed_all,
                                [&] { lock->Release(); })
                 : kExitFatal;
  lock->Release();
  if (show_summary) fputs(FormatSummary(summary, (*sweep)->tls_endpoints()).c_str(), io.err);
  if (stopped) {
    if (!run.ok()) fprintf(io.err, "ers: %s\n", std::string(run.message()).c_str());
    fprintf(io.err,
            "ers: scan stopped; resume point saved: ers scan --resume "
            "continues with the %" PRIu64 " targets not yet done\n",
            summary.remaining);
    return run.ok() ? kExitPartial : kExitFatal;
  }
  // The exit code is the most serious of: the push's (1, 2, 3), local
  // errors that left targets unscanned (3), findings at --fail-on (4).
  int exit_code = push_exit;
  const uint64_t local_errors = summary.by_outcome[static_cast<size_t>(Outcome::kError)];
  if (local_errors > 0) {
    fprintf(io.err,
            "ers: %" PRIu64 " target%s could not be scanned because of local errors (outcome "
            "\"error\"; --output shows each one's detail)\n",
            local_errors, local_errors == 1 ? "" : "s");
    if (exit_code == kExitOk) exit_code = kExitPartial;
  }
  if (fail_severity->has_value()) {
    absl::StatusOr<bool> hit =
        FindingsAtOrAbove(inventory, (*scan_run)->id(), **fail_severity, io);
    if (!hit.ok()) return ReportError(io, hit.status());
    if (*hit && exit_code == kExitOk) exit_code = kExitFindings;
  }
  return exit_code;
}

}  // namespace ers

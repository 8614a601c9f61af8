// scan_command.cc: `ers scan`. Builds the target space from the discover
// configuration (or from targets given on the command line) and walks it.
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

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "cli/scan_plan.h"
#include "cli/clm_push.h"
#include "cli/inventory.h"
#include "cli/progress.h"
#include "cli/scan_lock.h"
#include "cli/sweep.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/list_syntax.h"
#include "scanner/target_walker.h"

namespace ers {
namespace {

constexpr const char* kScanHelp = R"(Usage: ers scan [flags]

Scans every configured server and IP range on its ports (see ers discover),
or the targets given with --servers/--ips/--ports instead.

Results go into the inventory (see ers report, ers export) and, with
--output, to a JSON Lines file (schema: docs/result-schema.md). On a
terminal a progress line and a summary go to standard error; from cron
(no terminal) ers prints only errors. Ctrl-C (or SIGTERM) stops cleanly
and stores a resume point; --resume continues there. Only one scan of an
inventory runs at a time.

Examples:
  ers scan
  ers scan --mode full --concurrency 20000 --rate 5000 --output scan.jsonl
  ers scan --ips 127.0.0.0/24 --ports 443,8443 --handshake-timeout 2s
  ers scan --servers web.example.com --resolve web.example.com=127.0.0.1
  ers scan --resume
  ers scan --dry-run                  show the plan and the first targets
  ers scan --dry-run --shard 2/4      the part of the scan machine 2 of 4 does
  ers scan --dry-run --ips 127.0.0.0/24 --ports 443,8443

Flags:
)";

constexpr const char* kSeedSetting = "scan_seed";
constexpr const char* kResumeSetting = "resume_point";
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


absl::StatusOr<uint32_t> ParseMillis(const std::optional<std::string>& flag,
                                     const char* name, uint32_t fallback) {
  if (!flag.has_value()) return fallback;
  absl::Duration d;
  if (!absl::ParseDuration(*flag, &d) || d <= absl::ZeroDuration() ||
      d > absl::Hours(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " \"", *flag,
        "\" is not a duration between 1ms and 1h (e.g. 500ms, 5s)"));
  }
  return static_cast<uint32_t>(absl::ToInt64Milliseconds(d));
}

absl::StatusOr<uint64_t> ParseCount(const std::optional<std::string>& flag,
                                    const char* name, uint64_t fallback,
                                    uint64_t max) {
  if (!flag.has_value()) return fallback;
  uint64_t v = 0;
  if (!absl::SimpleAtoi(*flag, &v) || v > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " \"", *flag, "\" is not a number from 0 to ", max));
  }
  return v;
}

// ScanSettings gathers the engine's and probes' flags.
struct ScanFlags {
  std::optional<std::string> mode, concurrency, rate, per_address_cap,
      connect_timeout, handshake_timeout, retries, sni, alpn, resolve, output,
      workers, roots, intermediates, policy;
  bool no_system_roots = false;
  bool no_analysis = false;
  bool no_fallback = false;
};

constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

// TruncatePartialLine cuts |path| after its last newline, if it does not end
// in one. A missing file is fine.
absl::Status TruncatePartialLine(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(path.c_str(), "r+"), &fclose);
  if (!f) return absl::OkStatus();
  if (fseeko(f.get(), 0, SEEK_END) != 0) return absl::OkStatus();
  off_t end = ftello(f.get());
  off_t pos = end;
  char buf[4096];
  while (pos > 0) {
    const off_t chunk = std::min<off_t>(pos, sizeof(buf));
    fseeko(f.get(), pos - chunk, SEEK_SET);
    if (fread(buf, 1, static_cast<size_t>(chunk), f.get()) != static_cast<size_t>(chunk)) break;
    for (off_t i = chunk - 1; i >= 0; --i) {
      if (buf[i] == '\n') {
        const off_t keep = pos - chunk + i + 1;
        if (keep != end && ftruncate(fileno(f.get()), keep) != 0) {
          return absl::DataLossError(absl::StrCat("cannot repair ", path, ": ", strerror(errno)));
        }
        return absl::OkStatus();
      }
    }
    pos -= chunk;
  }
  if (end > 0 && ftruncate(fileno(f.get()), 0) != 0) {
    return absl::DataLossError(absl::StrCat("cannot repair ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// LoadTrust builds the trust store and policy from the scan's flags.
absl::Status LoadTrust(const ScanFlags& f, const Streams& io, TrustStore* store,
                       Policy* policy) {
  if (!f.no_system_roots) {
    absl::StatusOr<std::string> bundle = ReadSmallFile(kSystemBundle);
    if (bundle.ok()) {
      absl::Status s = store->AddRootsPem(*bundle, kSystemBundle, true);
      if (!s.ok()) return s;
    } else if (!f.roots.has_value()) {
      fprintf(io.err,
              "ers: warning: no system CA bundle (%s): every chain will be "
              "untrusted; install ca-certificates or pass --roots\n",
              kSystemBundle);
    }
  }
  auto each_file = [](const std::optional<std::string>& list,
                      const std::function<absl::Status(const std::string&,
                                                       const std::string&)>& add)
      -> absl::Status {
    if (!list.has_value()) return absl::OkStatus();
    absl::StatusOr<std::vector<absl::string_view>> files = SplitList(*list, "file list");
    if (!files.ok()) return files.status();
    for (absl::string_view file : *files) {
      absl::StatusOr<std::string> pem = ReadSmallFile(std::string(file));
      if (!pem.ok()) return pem.status();
      absl::Status s = add(*pem, std::string(file));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  };
  absl::Status s = each_file(f.roots, [&](const std::string& pem, const std::string& name) {
    return store->AddRootsPem(pem, name, false);
  });
  if (!s.ok()) return s;
  s = each_file(f.intermediates, [&](const std::string& pem, const std::string& name) {
    return store->AddIntermediatesPem(pem, name);
  });
  if (!s.ok()) return s;
  if (f.policy.has_value()) {
    absl::StatusOr<std::string> text = ReadSmallFile(*f.policy);
    if (!text.ok()) return text.status();
    absl::StatusOr<Policy> parsed = ParsePolicy(*text, *f.policy);
    if (!parsed.ok()) return parsed.status();
    *policy = *std::move(parsed);
  }
  return absl::OkStatus();
}

absl::Status BuildOptions(const ScanFlags& f, ProbeOptions* probe,
                          EngineOptions* engine) {
  if (f.mode.has_value()) {
    if (*f.mode == "full") {
      probe->mode = ProbeMode::kFull;
    } else if (*f.mode == "certs") {
      probe->mode = ProbeMode::kCerts;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--mode \"", *f.mode, "\" must be certs or full"));
    }
  }
  absl::StatusOr<uint32_t> ms =
      ParseMillis(f.connect_timeout, "connect-timeout", probe->connect_timeout_ms);
  if (!ms.ok()) return ms.status();
  probe->connect_timeout_ms = *ms;
  ms = ParseMillis(f.handshake_timeout, "handshake-timeout",
                   probe->handshake_timeout_ms);
  if (!ms.ok()) return ms.status();
  probe->handshake_timeout_ms = *ms;
  absl::StatusOr<uint64_t> n =
      ParseCount(f.retries, "retries", probe->connect_retries, 10);
  if (!n.ok()) return n.status();
  probe->connect_retries = static_cast<int>(*n);
  probe->fallback = !f.no_fallback;
  if (f.alpn.has_value()) {
    absl::StatusOr<std::vector<absl::string_view>> protos =
        SplitList(*f.alpn, "--alpn list");
    if (!protos.ok()) return protos.status();
    for (absl::string_view p : *protos) probe->alpn.emplace_back(p);
  }
  n = ParseCount(f.concurrency, "concurrency", 0, 1000000);
  if (!n.ok()) return n.status();
  engine->concurrency = static_cast<uint32_t>(*n);
  n = ParseCount(f.rate, "rate", 0, 10000000);
  if (!n.ok()) return n.status();
  engine->rate = static_cast<double>(*n);
  n = ParseCount(f.per_address_cap, "per-address-cap", engine->per_address_cap,
                 100000);
  if (!n.ok()) return n.status();
  if (*n == 0) {
    return absl::InvalidArgumentError("--per-address-cap must be at least 1");
  }
  engine->per_address_cap = static_cast<uint32_t>(*n);
  if (f.sni.has_value()) {
    // "none" stands for "no SNI" in the list.
    for (absl::string_view name : absl::StrSplit(*f.sni, ',')) {
      name = absl::StripAsciiWhitespace(name);
      if (name == "none") {
        engine->sni_names.emplace_back();
        continue;
      }
      absl::StatusOr<Server> server = ParseServer(name);
      if (!server.ok()) return server.status();
      engine->sni_names.push_back(server->host);
    }
  }
  if (f.resolve.has_value()) {
    absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>> r =
        ParseResolveList(*f.resolve);
    if (!r.ok()) return r.status();
    engine->resolve = *std::move(r);  // replaces the configured mapping
  }
  return absl::OkStatus();
}

}  // namespace

int RunScan(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> servers, ips, ports, seed_flag, shard_flag,
      show_flag, exclude_file, db;
  bool dry_run = false, resume = false, quiet = false, summary_flag = false,
       no_push = false;
  ScanFlags sf;
  FlagSet flags("scan");
  flags.Bool("dry-run", "print the plan and the first targets; send nothing",
             &dry_run);
  flags.String("servers", "LIST", "scan these servers instead of the "
               "configured ones", &servers);
  flags.String("ips", "LIST", "scan these IP ranges instead of the configured "
               "ones", &ips);
  flags.String("ports", "LIST", "ports for --servers/--ips (default: the "
               "default table)", &ports);
  flags.String("seed", "N", "order of the walk (default: the inventory's "
               "stored seed)", &seed_flag);
  flags.String("shard", "k/N", "scan only part k of N (1 <= k <= N); shards "
               "with one seed split the targets exactly", &shard_flag);
  flags.String("show", "N", "with --dry-run, how many targets to list "
               "(default 10)", &show_flag);
  flags.String("exclude-file", "PATH", "use this exclusion file instead of "
               "the configured one", &exclude_file);
  flags.String("mode", "certs|full", "certs: capture the chain and abort "
               "(default, cheapest); full: complete the handshake", &sf.mode);
  flags.String("concurrency", "N", "connections in flight (default: sized to "
               "the open-file limit, at most 10000)", &sf.concurrency);
  flags.String("rate", "N", "connection attempts per second (default: "
               "unlimited)", &sf.rate);
  flags.String("per-address-cap", "N", "connections in flight to one "
               "address (default 32)", &sf.per_address_cap);
  flags.String("connect-timeout", "DURATION", "TCP connect timeout (default "
               "5s)", &sf.connect_timeout);
  flags.String("handshake-timeout", "DURATION", "TLS handshake timeout "
               "(default 10s)", &sf.handshake_timeout);
  flags.String("retries", "N", "retries of a connect that timed out "
               "(default 1)", &sf.retries);
  flags.Bool("no-fallback", "do not retry rejected hellos with older TLS "
             "versions", &sf.no_fallback);
  flags.String("sni", "LIST", "server names to send to IP targets, one probe "
               "each (\"none\" for no SNI)", &sf.sni);
  flags.String("alpn", "LIST", "ALPN protocols to offer, e.g. h2,http/1.1",
               &sf.alpn);
  flags.String("resolve", "LIST", "NAME=ADDRESS pairs used instead of DNS",
               &sf.resolve);
  flags.String("output", "PATH", "also write the results as JSON Lines here "
               "(- for standard output)", &sf.output);
  flags.String("workers", "N", "worker processes, one event loop each "
               "(default: as many as the open-file limit needs for "
               "--concurrency)", &sf.workers);
  flags.String("roots", "FILES", "also trust the roots in these PEM files "
               "(enterprise PKIs), comma-separated", &sf.roots);
  flags.String("intermediates", "FILES", "PEM files of known intermediates, "
               "used to complete chains servers leave incomplete",
               &sf.intermediates);
  flags.Bool("no-system-roots", "do not trust the system's CA bundle",
             &sf.no_system_roots);
  flags.String("policy", "FILE", "finding thresholds (see docs/findings.md)",
               &sf.policy);
  flags.Bool("no-analysis", "write chains without parsing or validating them",
             &sf.no_analysis);
  flags.Bool("resume", "continue an interrupted scan from its resume point",
             &resume);
  flags.Bool("quiet", "no summary on standard error", &quiet);
  flags.Bool("no-push", "spool the results for the CLM but do not send them now "
             "(ers push does)", &no_push);
  flags.Bool("summary", "print the summary even when standard error is not "
             "a terminal (cron prints only errors)", &summary_flag);
  flags.String("db", "PATH", "inventory database (default: see ers --help)",
               &db);
  absl::Status parsed = flags.Parse(args, nullptr);
  if (!parsed.ok()) return ReportError(io, parsed);
  if (flags.help_requested()) {
    fprintf(io.out, "%s%s", kScanHelp, flags.Usage().c_str());
    return kExitOk;
  }
  Shard shard;
  if (shard_flag.has_value()) {
    absl::StatusOr<Shard> s = ParseShard(*shard_flag);
    if (!s.ok()) return ReportError(io, s.status());
    shard = *s;
  }
  uint64_t show = kDefaultShow;
  if (show_flag.has_value() && !absl::SimpleAtoi(*show_flag, &show)) {
    return ReportError(io, absl::InvalidArgumentError(absl::StrCat(
                               "--show \"", *show_flag, "\" is not a number")));
  }

  absl::StatusOr<std::unique_ptr<ConfigStore>> store = OpenStore(db);
  if (!store.ok()) return ReportError(io, store.status());
  ConfigStore& config = **store;

  absl::StatusOr<std::vector<DiscoverEntry>> entries =
      servers.has_value() || ips.has_value() || ports.has_value()
          ? AdHocEntries(servers, ips, ports)
          : config.List();
  if (!entries.ok()) return ReportError(io, entries.status());
  if (entries->empty()) {
    return ReportError(io, absl::InvalidArgumentError(
                               "nothing to scan: configure targets with ers "
                               "discover --servers/--ips first"));
  }
  std::string exclusion_source;
  absl::StatusOr<PrefixSet> exclusions =
      LoadExclusions(config, exclude_file, &exclusion_source);
  if (!exclusions.ok()) return ReportError(io, exclusions.status());
  const size_t num_excluded = exclusions->num_prefixes();
  absl::StatusOr<TargetSpace> space =
      BuildTargetSpace(*entries, *std::move(exclusions));
  if (!space.ok()) return ReportError(io, space.status());
  absl::StatusOr<uint64_t> seed = ResolveSeed(config, seed_flag);
  if (!seed.ok()) return ReportError(io, seed.status());
  TargetWalker walker(&*space, *seed, shard);

  ProbeOptions probe_options;
  EngineOptions engine_options;
  if (absl::Status s = BuildOptions(sf, &probe_options, &engine_options);
      !s.ok()) {
    return ReportError(io, s);
  }
  if (!sf.resolve.has_value()) {
    // Names mapped with ers discover --resolve.
    absl::StatusOr<std::optional<std::string>> stored =
        config.GetSetting(kResolveSetting);
    if (!stored.ok()) return ReportError(io, stored.status());
    if (stored->has_value()) {
      absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>> r =
          ParseResolveList(**stored);
      if (!r.ok()) return ReportError(io, r.status());
      engine_options.resolve = *std::move(r);
    }
  }
  std::vector<std::string> resume_points;
  if (resume) {
    absl::StatusOr<std::optional<std::string>> point =
        config.GetSetting(kResumeSetting);
    if (!point.ok()) return ReportError(io, point.status());
    if (!point->has_value()) {
      return ReportError(io, absl::InvalidArgumentError(
                                 "--resume: no interrupted scan to resume"));
    }
    resume_points = absl::StrSplit(**point, '\n', absl::SkipEmpty());
    // A single-loop scan's record also places the dry run's walker (and
    // checks the record early); worker records are checked by the workers.
    if (resume_points.size() == 1) {
      if (absl::Status s = walker.RestorePosition(resume_points[0]); !s.ok()) {
        return ReportError(io, s);
      }
    }
  }
  if (!dry_run) {
    // One scan per inventory at a time.
    absl::StatusOr<ScanLock> lock = ScanLock::Acquire(config.path());
    if (!lock.ok()) return ReportError(io, lock.status());
    absl::StatusOr<std::unique_ptr<Inventory>> inventory =
        Inventory::Open(config.path());
    if (!inventory.ok()) return ReportError(io, inventory.status());
    FILE* out = nullptr;
    std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &fclose);
    if (sf.output.has_value()) {
      if (*sf.output == "-") {
        out = io.out;
      } else {
        if (resume) {
          // A line cut short when the last run stopped (a full disk, a
          // kill) would run into the next one: drop it first.
          if (absl::Status t = TruncatePartialLine(*sf.output); !t.ok()) {
            return ReportError(io, t);
          }
        }
        file.reset(fopen(sf.output->c_str(), resume ? "a" : "w"));
        if (!file) {
          return ReportError(io, absl::PermissionDeniedError(absl::StrCat(
                                     "cannot write ", *sf.output, ": ",
                                     strerror(errno))));
        }
        out = file.get();
      }
    }
    SweepRequest request;
    request.space = &*space;
    request.seed = *seed;
    request.shard = shard;
    request.probe = probe_options;
    request.engine = std::move(engine_options);
    request.resume_points = resume_points;
    TrustStore trust;
    Policy policy;
    if (!sf.no_analysis) {
      if (absl::Status s = LoadTrust(sf, io, &trust, &policy); !s.ok()) {
        return ReportError(io, s);
      }
      request.trust = &trust;
      request.policy = &policy;
    }
    absl::StatusOr<uint64_t> workers = ParseCount(sf.workers, "workers", 0, 1024);
    if (!workers.ok()) return ReportError(io, workers.status());
    request.workers = static_cast<uint32_t>(*workers);

    nlohmann::json options = {
        {"seed", *seed},
        {"shard", absl::StrCat(shard.index, "/", shard.count)},
        {"mode", ProbeModeName(probe_options.mode)},
        {"concurrency", request.engine.concurrency},
        {"rate", request.engine.rate},
        {"resume", resume},
        {"targets", walker.shard_size()}};
    absl::StatusOr<int64_t> run_id = (*inventory)->BeginRun(options.dump());
    if (!run_id.ok()) return ReportError(io, run_id.status());

    // Every result: to the JSON Lines output if asked, into the inventory,
    // and onto the progress line.
    Progress progress(io.err, walker.shard_size() - walker.position());
    absl::Status sink_error;
    LineSink sink = [&](const std::string& line) {
      if (out != nullptr && fwrite(line.data(), 1, line.size(), out) != line.size()) {
        sink_error = absl::DataLossError(absl::StrCat(
            "cannot write ", sf.output.value_or("output"), ": ", strerror(errno)));
        return false;
      }
      absl::Status s = (*inventory)->AddResultLine(
          *run_id, absl::string_view(line).substr(0, line.size() - 1));
      if (!s.ok()) {
        sink_error = s;
        return false;
      }
      progress.Result(absl::StrContains(line, "\"outcome\":\"tls\""));
      return true;
    };
    // Checkpoints: every inventory commit also stores the resume point, after
    // the JSON Lines output reached the disk, so a scan killed outright
    // resumes (ers scan --resume) without losing a target.
    std::function<std::string()> resume_provider;
    request.resume_provider = &resume_provider;
    (*inventory)->SetCheckpoint([&]() -> absl::StatusOr<std::string> {
      if (!resume_provider) return std::string();
      if (out != nullptr && (fflush(out) != 0 || (out != io.out && fsync(fileno(out)) != 0))) {
        return absl::DataLossError("cannot write the JSON Lines output");
      }
      return resume_provider();
    });
    absl::StatusOr<SweepSummary> summary = RunSweep(request, sink);
    (*inventory)->SetCheckpoint(nullptr);
    progress.Clear();
    if (out != nullptr && fflush(out) != 0 && sink_error.ok()) {
      sink_error = absl::DataLossError("cannot write the JSON Lines output");
    }
    if (!summary.ok()) {
      (void)(*inventory)->FinishRun(*run_id, "failed", 0, 0);
      return ReportError(io, !sink_error.ok() ? sink_error : summary.status());
    }
    const bool stopped = summary->interrupted || summary->sink_failed;
    absl::Status finished = (*inventory)->FinishRun(
        *run_id, summary->sink_failed ? "failed" : stopped ? "interrupted" : "done",
        summary->stats.targets_walked, summary->elapsed_s);
    if (!finished.ok()) return ReportError(io, finished);
    // Push the run to the CLM, when one is configured: spooled first, so a
    // failure here loses nothing (ers push retries).
    PushOptions push_options;
    push_options.max_attempts = no_push ? 0 : 3;
    bool pushed_all = true;
    const int push_exit = SpoolAndPush(config.path(), **inventory, *run_id,
                                       push_options, io, &pushed_all);
    const bool show_summary = !quiet && (summary_flag || isatty(fileno(io.err)));
    if (show_summary) fputs(FormatSummary(*summary).c_str(), io.err);
    if (stopped) {
      std::string points = absl::StrJoin(summary->resume_points, "\n");
      if (absl::Status s = config.SetSetting(kResumeSetting, points); !s.ok()) {
        return ReportError(io, s);
      }
      if (!sink_error.ok()) {
        fprintf(io.err, "ers: %s\n", std::string(sink_error.message()).c_str());
      }
      fprintf(io.err,
              "ers: scan stopped; resume point saved: ers scan --resume "
              "continues with the %" PRIu64 " targets not yet done\n",
              summary->remaining);
      return sink_error.ok() ? kExitPartial : kExitFatal;
    }
    if (absl::Status s = config.ClearSetting(kResumeSetting); !s.ok()) {
      return ReportError(io, s);
    }
    return push_exit;
  }

  fprintf(io.out, "scan plan (dry run: nothing is sent)\n");
  fprintf(io.out, "  inventory:  %s\n", config.path().c_str());
  for (const DiscoverEntry& e : *entries) {
    fprintf(io.out, "  %-7s %-32s ports %s\n",
            e.kind == EntryKind::kServer ? "server" : "ips", e.spec.c_str(),
            e.ports.ToString().c_str());
  }
  if (exclusion_source.empty()) {
    fprintf(io.out, "  exclusions: none\n");
  } else {
    fprintf(io.out, "  exclusions: %zu prefixes from %s\n", num_excluded,
            exclusion_source.c_str());
  }
  fprintf(io.out,
          "  targets:    %s (%s addresses and %s host names, resolved at "
          "scan time; %zu blocks)\n",
          Grouped(space->size()).c_str(),
          Grouped(space->num_addresses()).c_str(),
          Grouped(space->num_names()).c_str(), space->blocks().size());
  fprintf(io.out, "  order:      seed %" PRIu64 ", shard %u/%u: %s targets\n",
          *seed, shard.index, shard.count,
          Grouped(walker.shard_size()).c_str());
  const uint64_t n = std::min<uint64_t>(show, walker.shard_size());
  fprintf(io.out, "  first %" PRIu64 " targets in scan order:\n", n);
  Target t;
  for (uint64_t i = 0; i < n && walker.Next(&t); ++i) {
    std::string host =
        t.has_address ? t.address.ToString() : std::string(t.name);
    if (t.has_address && t.address.family == IpFamily::kV6) {
      host = absl::StrCat("[", host, "]");
    }
    fprintf(io.out, "    %s:%u\n", host.c_str(), t.port);
  }
  return kExitOk;
}

}  // namespace ers

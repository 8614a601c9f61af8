// scan_command.cc: `ers scan`. Builds the target space from the discover
// configuration (or from targets given on the command line) and walks it.
#include <cinttypes>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/scan_plan.h"
#include "scanner/target_walker.h"

namespace ers {
namespace {

constexpr const char* kScanHelp = R"(Usage: ers scan [flags]

Scans every configured server and IP range on its ports (see ers discover),
or the targets given with --servers/--ips/--ports instead.

Examples:
  ers scan --dry-run                  show the plan and the first targets
  ers scan --dry-run --shard 2/4      the part of the scan machine 2 of 4 does
  ers scan --dry-run --ips 127.0.0.0/24 --ports 443,8443

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

}  // namespace

int RunScan(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> servers, ips, ports, seed_flag, shard_flag,
      show_flag, exclude_file, db;
  bool dry_run = false;
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

  if (!dry_run) {
    return ReportError(
        io, absl::UnimplementedError(
                "this build of ers has no sweep engine yet; ers scan "
                "--dry-run shows what a scan would probe"));
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

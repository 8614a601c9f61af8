#include "sweep/sweep_plan.h"

#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/ip_address.h"
#include "base/list_syntax.h"
#include "scanner/fd_limit.h"
#include "scanner/port_list.h"
#include "scanner/prefix_set.h"
#include "scanner/server_list.h"
#include "tlsprobe/starttls.h"

namespace ers {
namespace {

constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

absl::StatusOr<PortList> Ports(const std::string& text) {
  if (text.empty()) return PortList::Defaults();
  return PortList::Parse(text);
}

// AddGroup adds |ips| and |servers| on |ports| to |builder|.
absl::Status AddGroup(const TargetGroup& group, TargetSpace::Builder* builder) {
  absl::StatusOr<PortList> ports = Ports(group.ports);
  if (!ports.ok()) return ports.status();
  if (!group.ips.empty()) {
    absl::StatusOr<std::vector<IpRange>> ranges = ParseIpRanges(group.ips);
    if (!ranges.ok()) return ranges.status();
    for (const IpRange& r : *ranges) builder->AddRange(r, *ports);
  }
  if (!group.servers.empty()) {
    absl::StatusOr<std::vector<Server>> servers = ParseServers(group.servers);
    if (!servers.ok()) return servers.status();
    for (const Server& s : *servers) builder->AddServer(s, *ports);
  }
  return absl::OkStatus();
}

absl::Status LoadTrust(const SweepOptions& o, SweepPlan* plan) {
  plan->trust = std::make_unique<TrustStore>();
  if (o.system_roots) {
    absl::StatusOr<std::string> bundle = ReadSmallFile(kSystemBundle);
    if (bundle.ok()) {
      if (absl::Status s = plan->trust->AddRootsPem(*bundle, kSystemBundle, true); !s.ok()) {
        return s;
      }
    } else if (o.root_files.empty()) {
      plan->warnings.push_back(absl::StrCat(
          "no system CA bundle (", kSystemBundle,
          "): every chain will be untrusted; install ca-certificates or pass --roots"));
    }
  }
  for (const std::string& file : o.root_files) {
    absl::StatusOr<std::string> pem = ReadSmallFile(file);
    if (!pem.ok()) return pem.status();
    if (absl::Status s = plan->trust->AddRootsPem(*pem, file, o.root_files_public); !s.ok()) return s;
  }
  for (const std::string& file : o.intermediate_files) {
    absl::StatusOr<std::string> pem = ReadSmallFile(file);
    if (!pem.ok()) return pem.status();
    if (absl::Status s = plan->trust->AddIntermediatesPem(*pem, file); !s.ok()) return s;
  }
  if (!o.policy_file.empty()) {
    absl::StatusOr<std::string> text = ReadSmallFile(o.policy_file);
    if (!text.ok()) return text.status();
    absl::StatusOr<Policy> parsed = ParsePolicy(*text, o.policy_file);
    if (!parsed.ok()) return parsed.status();
    plan->policy = *std::move(parsed);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TargetSpace> BuildTargetSpace(const SweepOptions& o) {
  TargetSpace::Builder builder;
  if (!o.targets.empty()) {
    absl::StatusOr<PortList> ports = Ports(o.ports);
    if (!ports.ok()) return ports.status();
    absl::StatusOr<std::vector<absl::string_view>> entries =
        SplitList(o.targets, "target list");
    if (!entries.ok()) return entries.status();
    for (absl::string_view entry : *entries) {
      // An address range, else a host name (or an address literal).
      absl::StatusOr<IpRange> range = ParseIpRange(entry);
      if (range.ok()) {
        builder.AddRange(*range, *ports);
        continue;
      }
      // "10.0.0.1/24" or "10.0.0.9-10.0.0.1" are ranges gone wrong, not
      // host names: report the range's error.
      const bool looks_like_range =
          entry.find('/') != absl::string_view::npos ||
          (entry.find('-') != absl::string_view::npos &&
           entry.find_first_not_of("0123456789.:-abcdefABCDEF[]") == absl::string_view::npos);
      if (looks_like_range) return range.status();
      absl::StatusOr<Server> server = ParseServer(entry);
      if (!server.ok()) return server.status();
      builder.AddServer(*server, *ports);
    }
  }
  for (const TargetGroup& g : o.groups) {
    if (absl::Status s = AddGroup(g, &builder); !s.ok()) return s;
  }
  PrefixSet exclusions;
  if (!o.exclusion_file.empty()) {
    absl::StatusOr<PrefixSet> file = LoadExclusionFile(o.exclusion_file);
    if (!file.ok()) return file.status();
    exclusions = *std::move(file);
  }
  if (!o.exclusions.empty()) {
    absl::StatusOr<PrefixSet> text = ParseExclusionList(o.exclusions, "exclusions");
    if (!text.ok()) return text.status();
    for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
      for (const IpRange& r : text->Ranges(family)) exclusions.InsertRange(r);
    }
  }
  builder.SetExclusions(std::move(exclusions));
  builder.AllowSpecialAddresses(o.allow_special_addresses);
  return std::move(builder).Build();
}

absl::StatusOr<std::optional<DnsOptions>> DnsOptionsFor(const SweepOptions& o) {
  if (o.resolver.empty()) {
    if (o.domains.empty()) return std::optional<DnsOptions>();
    return std::optional<DnsOptions>(DnsOptions());
  }
  absl::StatusOr<ResolverAddress> server = ParseResolverAddress(o.resolver);
  if (!server.ok()) return server.status();
  DnsOptions dns;
  dns.server = *server;
  return std::optional<DnsOptions>(dns);
}

absl::Status ExpandDomainsInto(SweepOptions* o, DomainExpansion* expansion) {
  if (o->domains.empty()) return absl::OkStatus();
  for (const std::string& domain : o->domains) {
    if (absl::Status s = ValidateHostName(domain); !s.ok()) return s;
  }
  absl::StatusOr<std::optional<DnsOptions>> dns = DnsOptionsFor(*o);
  if (!dns.ok()) return dns.status();
  absl::StatusOr<DomainExpansion> expanded = ExpandDomains(o->domains, dns->value_or(DnsOptions()));
  if (!expanded.ok()) return expanded.status();
  StarttlsTable table;
  if (absl::StatusOr<StarttlsTable> t = StarttlsTable::Parse(o->starttls); t.ok()) table = *t;
  const bool upgrades = absl::AsciiStrToLower(absl::StripAsciiWhitespace(o->starttls)) != "none";
  std::string announced;  // PORT=PROTOCOL entries, before the caller's own
  for (const DomainTarget& t : expanded->targets) {
    TargetGroup group;
    group.servers = t.host;
    group.ports = t.port == 0 ? o->ports : absl::StrCat(t.port);
    o->groups.push_back(std::move(group));
    if (t.port != 0 && upgrades && table.For(t.port) != t.starttls &&
        announced.find(absl::StrCat(t.port, "=")) == std::string::npos) {
      absl::StrAppend(&announced, announced.empty() ? "" : ",", t.port, "=",
                      t.starttls == Starttls::kNone ? "none" : StarttlsName(t.starttls));
    }
  }
  if (!announced.empty()) {
    o->starttls = o->starttls.empty() ? announced : absl::StrCat(announced, ",", o->starttls);
  }
  o->domains.clear();
  *expansion = *std::move(expanded);
  return absl::OkStatus();
}

absl::StatusOr<SweepPlan> BuildSweepPlan(const SweepOptions& options) {
  SweepPlan plan;
  SweepOptions o = options;
  if (absl::Status s = ExpandDomainsInto(&o, &plan.domains); !s.ok()) return s;
  for (const std::string& problem : plan.domains.problems) plan.warnings.push_back(problem);
  absl::StatusOr<TargetSpace> space = BuildTargetSpace(o);
  if (!space.ok()) return space.status();
  if (space->size() == 0) {
    const bool given = !o.targets.empty() || !o.groups.empty();
    return absl::InvalidArgumentError(
        given ? "nothing to sweep: every address given is excluded (the exclusion list, "
                "in any spelling of its addresses)"
              : "nothing to sweep: no targets given");
  }
  plan.space = std::make_unique<TargetSpace>(*std::move(space));
  if (plan.space->special_cut() > 0) {
    std::ostringstream count;
    count << plan.space->special_cut();
    plan.warnings.push_back(absl::StrCat(
        "left out ", count.str(),
        " addresses of special-purpose space (this host, multicast, reserved) from the "
        "ranges; --allow-special-addresses includes them"));
  }
  plan.seed = o.seed;
  if (o.shard_count == 0 || o.shard_index == 0 || o.shard_index > o.shard_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard ", o.shard_index, "/", o.shard_count, " is not k/N with 1 <= k <= N"));
  }
  plan.shard = {o.shard_index, o.shard_count};

  ProbeOptions& p = plan.probe;
  p.mode = o.mode;
  auto millis = [](absl::Duration d, const char* what) -> absl::StatusOr<uint32_t> {
    if (d < absl::Milliseconds(1) || d > absl::Hours(1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must be from 1ms to 1h, not ", absl::FormatDuration(d)));
    }
    return static_cast<uint32_t>(absl::ToInt64Milliseconds(d));
  };
  absl::StatusOr<uint32_t> ms = millis(o.connect_timeout, "the connect timeout");
  if (!ms.ok()) return ms.status();
  p.connect_timeout_ms = *ms;
  ms = millis(o.handshake_timeout, "the handshake timeout");
  if (!ms.ok()) return ms.status();
  p.handshake_timeout_ms = *ms;
  if (o.connect_retries < 0 || o.connect_retries > 10) {
    return absl::InvalidArgumentError("connect retries must be from 0 to 10");
  }
  p.connect_retries = o.connect_retries;
  p.fallback = o.fallback;
  p.alpn = o.alpn;

  EngineOptions& e = plan.engine;
  e.concurrency = o.concurrency;
  e.rate = o.rate;
  if (o.per_address_cap == 0) {
    return absl::InvalidArgumentError("the per-address cap must be at least 1");
  }
  e.per_address_cap = o.per_address_cap;
  for (const std::string& name : o.sni) {
    if (name.empty()) {
      e.sni_names.emplace_back();
      continue;
    }
    absl::StatusOr<Server> server = ParseServer(name);
    if (!server.ok()) return server.status();
    e.sni_names.push_back(server->host);
  }
  if (o.sni_max < 1 || o.sni_max > 1024) {
    return absl::InvalidArgumentError("--sni-max must be from 1 to 1024");
  }
  e.sni_discovery = o.sni_discovery;
  e.sni_max = o.sni_max;
  absl::StatusOr<std::optional<DnsOptions>> dns = DnsOptionsFor(o);
  if (!dns.ok()) return dns.status();
  if (!o.resolver.empty()) {
    e.dns = **dns;  // names through c-ares and the given server
    e.sni_ptr = o.sni_discovery;  // and PTR names, asked of that server only
  }
  absl::StatusOr<StarttlsTable> starttls = StarttlsTable::Parse(o.starttls);
  if (!starttls.ok()) return starttls.status();
  e.starttls = *std::move(starttls);
  if (!o.resolve.empty()) {
    absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>> r =
        ParseResolveList(o.resolve);
    if (!r.ok()) return r.status();
    e.resolve = *std::move(r);
  }

  // Workers: as asked, or as many as the open-file limit needs (raising
  // the limit is the program's act; see scanner/fd_limit.h).
  plan.file_limit = CurrentFileLimit();
  const uint64_t per_process =
      plan.file_limit > kReservedFds + 1 ? plan.file_limit - kReservedFds : 1;
  std::vector<std::string> points;
  if (!o.resume_point.empty()) {
    points = absl::StrSplit(o.resume_point, '\n', absl::SkipEmpty());
  }
  uint32_t workers = o.workers;
  if (!points.empty()) {
    workers = static_cast<uint32_t>(points.size());
  } else if (e.concurrency > per_process) {
    workers = std::max<uint32_t>(
        workers, static_cast<uint32_t>((e.concurrency + per_process - 1) / per_process));
  }
  workers = std::max<uint32_t>(workers, 1);
  if (workers > 1024) return absl::InvalidArgumentError("at most 1024 worker processes");
  if (workers > 1 && e.concurrency == 0) e.concurrency = kDefaultConcurrency * workers;
  plan.workers = workers;
  plan.start_positions.assign(workers, 0);
  for (uint32_t w = 0; w < points.size(); ++w) {
    TargetWalker walker(plan.space.get(), plan.seed, plan.WorkerShard(w));
    if (absl::Status s = walker.RestorePosition(points[w]); !s.ok()) return s;
    plan.start_positions[w] = walker.position();
  }

  plan.analyse = o.analyse;
  if (o.analyse) {
    if (absl::Status s = LoadTrust(o, &plan); !s.ok()) return s;
  }
  if (!o.revocation.empty() && o.revocation != "ocsp" && o.revocation != "crl") {
    return absl::InvalidArgumentError(absl::StrCat(
        "revocation \"", o.revocation, "\" must be ocsp (ask the responders) or crl (fetch "
        "the CRLs)"));
  }
  plan.aia_complete = o.aia;
  plan.revocation_ocsp = o.revocation == "ocsp";
  plan.revocation_crl = o.revocation == "crl";
  if (o.analyse && (o.aia || plan.revocation_ocsp || plan.revocation_crl)) {
    IssuerFetcherOptions aia;
    aia.cache_dir = o.aia_cache_dir;
    aia.downloader = o.aia_downloader;
    aia.timeout_ms = absl::ToInt64Milliseconds(o.aia_timeout);
    // The same exclusions as every probe: a certificate must not be able
    // to send the scanner where the operator said not to go.
    aia.excluded = [space = plan.space.get()](const IpAddress& a) {
      return space->IsExcluded(a);
    };
    absl::StatusOr<std::unique_ptr<IssuerFetcher>> fetcher = IssuerFetcher::Create(std::move(aia));
    if (!fetcher.ok()) return fetcher.status();
    plan.aia = *std::move(fetcher);
  }
  plan.analysis_threads = o.analysis_threads != 0
                              ? o.analysis_threads
                              : std::max<uint32_t>(1, std::thread::hardware_concurrency());
  return plan;
}

}  // namespace ers

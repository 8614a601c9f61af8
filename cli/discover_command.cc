// discover_command.cc: `ers discover`, which adds servers and IP ranges to
// the configuration or re-configures their ports.
#include <optional>
#include <string>
#include <vector>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include <tuple>
#include "base/files.h"
#include "absl/strings/str_replace.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "base/ip_address.h"
#include "base/list_syntax.h"
#include "scanner/address_policy.h"
#include "scanner/domain_targets.h"
#include "scanner/server_list.h"
#include "tlsprobe/starttls.h"

namespace ers {
namespace {

constexpr const char* kDiscoverHelp = R"(Usage: ers discover [flags]

Adds servers and IP ranges to scan, or re-configures their ports. Each call
adds to what earlier calls configured. Entries named in a call that gives
--ports get exactly those ports; new entries without --ports get the default
ports (443,465,636,853,989,990,992,993,995). --ports --all re-configures
the ports of every entry. Contradictory flags (adding and removing one
entry, setting and clearing a setting) are refused. --roots,
--intermediates, --policy and --starttls are stored and used by every later scan (and
report) unless that command names its own. --domain adds DNS domains whose
announced services (MX, SRV records, the domain's own addresses) every scan
sweeps; --resolver names the DNS server every scan asks.

Examples:
  ers discover --servers mail.example.com
  ers discover --servers "mail.example.com,web.example.com" --ports "8443,9443"
  ers discover --servers server1.example.com --ports "8000-9000,9443"
  ers discover --ips 198.51.100.0/24 --ports "8000-9000"
  ers discover --exclude-file /etc/ers/exclude.txt
  ers discover --exclude 10.0.0.0/8,192.0.2.7
  ers discover --ips @/etc/ers/ranges.txt
  ers discover -iL targets.txt -p 443,8443
  ers discover --remove web.example.com
  ers discover --ports 443,8443 --all
  ers discover --resolve mail.example.com=10.1.2.3
  ers discover --roots /etc/pki/corp-root.pem --policy /etc/ers/policy.conf
  ers discover --ips 198.51.100.0/24 --ports default,starttls
  ers discover --starttls 2525=smtp,8389=ldap
  ers discover --domain example.com --resolver 192.0.2.53
  ers discover --list

Flags:
)";

struct Planned {
  EntryKind kind;
  std::string spec;
};

void PrintEntries(const Streams& io, const std::vector<DiscoverEntry>& entries,
                  const std::optional<std::string>& exclude_file) {
  if (entries.empty()) {
    fprintf(io.out, "nothing configured yet (try ers discover --servers NAME)\n");
  }
  for (const DiscoverEntry& e : entries) {
    fprintf(io.out, "%-7s %-40s ports %s\n",
            e.kind == EntryKind::kServer ? "server" : "ips", e.spec.c_str(),
            e.ports.ToString().c_str());
  }
  fprintf(io.out, "exclusions: %s\n",
          exclude_file.has_value() ? exclude_file->c_str() : "none");
}

}  // namespace

int RunDiscover(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> servers, ips, ports, exclude_file, remove, db;
  std::optional<std::string> resolve, roots, intermediates, policy, targets_file, exclude,
      starttls, domain, resolver;
  bool list = false, no_exclude_file = false, no_resolve = false, all = false,
       no_roots = false, no_intermediates = false, no_policy = false, no_exclude = false,
       no_starttls = false, no_domains = false, no_resolver = false;
  FlagSet flags("discover");
  flags.String("servers", "LIST",
               "host names and IP literals, comma-separated (@FILE: one or more per line)",
               &servers);
  flags.String("ips", "LIST",
               "CIDR blocks, addresses and a-b ranges, comma-separated (@FILE: from a file)",
               &ips);
  flags.String("targets-file", "FILE", "servers and IP ranges from FILE, one or more per "
               "line, '#' comments (nmap's -iL)", &targets_file);
  flags.Alias("-iL", "targets-file");
  flags.String("ports", "LIST", "ports and ranges, e.g. \"8000-9000,9443\"",
               &ports);
  flags.Alias("-p", "ports");
  flags.String("remove", "LIST", "remove these servers or ranges", &remove);
  flags.String("exclude-file", "PATH",
               "never scan the CIDRs and addresses in PATH ('#' comments)",
               &exclude_file);
  flags.Bool("no-exclude-file", "forget the configured exclusion file",
             &no_exclude_file);
  flags.String("exclude", "LIST", "never scan these CIDRs, addresses and ranges "
               "(comma-separated, @FILE; stored next to the exclusion file)", &exclude);
  flags.Bool("no-exclude", "forget the --exclude list", &no_exclude);
  flags.String("resolve", "LIST", "NAME=ADDRESS pairs used instead of DNS "
               "(split-horizon names, tests)", &resolve);
  flags.Bool("no-resolve", "forget every NAME=ADDRESS pair", &no_resolve);
  flags.String("roots", "FILES", "trust the roots in these PEM files too, in every scan "
               "(enterprise PKIs), comma-separated", &roots);
  flags.Bool("no-roots", "forget the stored roots", &no_roots);
  flags.String("intermediates", "FILES", "PEM files of intermediates every scan uses to "
               "complete chains", &intermediates);
  flags.Bool("no-intermediates", "forget the stored intermediates", &no_intermediates);
  flags.String("policy", "FILE", "the finding policy every scan and report uses "
               "(docs/findings.md)", &policy);
  flags.Bool("no-policy", "forget the stored policy (back to the defaults)", &no_policy);
  flags.String("starttls", "SPEC", "which ports every scan upgrades with STARTTLS: "
               "PORT=PROTOCOL entries on top of the built-in table (e.g. 2525=smtp), "
               "or none", &starttls);
  flags.Bool("no-starttls", "forget the stored --starttls (back to the built-in table)",
             &no_starttls);
  flags.String("domain", "LIST", "DNS domains whose announced services every scan sweeps "
               "(MX, SRV records, the domain itself); added to those stored", &domain);
  flags.Bool("no-domains", "forget the stored domains", &no_domains);
  flags.String("resolver", "ADDRESS[:PORT]", "the DNS server every scan asks for domains "
               "and host names (default: the system's)", &resolver);
  flags.Bool("no-resolver", "forget the stored resolver", &no_resolver);
  flags.Bool("list", "print the configuration", &list);
  flags.Bool("all", "with --ports alone: re-configure the ports of every entry", &all);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kDiscoverHelp, io)) {
    return *done;
  }

  // Lists from files: @FILE, and -iL's mixed targets.
  if (absl::Status s = ExpandTargetFlags(targets_file, &servers, &ips, &exclude); !s.ok()) {
    return ReportError(io, s);
  }
  std::optional<std::string> exclude_lines;
  if (exclude.has_value()) {
    absl::StatusOr<std::string> lines = ExclusionLines(*exclude);
    if (!lines.ok()) return ReportError(io, lines.status());
    exclude_lines = *lines;
  }
  if (exclude.has_value() && no_exclude) {
    return ReportError(io, absl::InvalidArgumentError("--exclude and --no-exclude contradict"));
  }
  // Parse everything before writing anything.
  std::vector<std::string> new_domains;
  if (domain.has_value()) {
    absl::StatusOr<std::vector<absl::string_view>> list = SplitList(*domain, "--domain list");
    if (!list.ok()) return ReportError(io, list.status());
    for (absl::string_view d : *list) {
      std::string name = absl::AsciiStrToLower(d);
      if (absl::Status s = ValidateHostName(name); !s.ok()) return ReportError(io, s);
      new_domains.push_back(std::move(name));
    }
  }
  if (resolver.has_value()) {
    if (absl::StatusOr<ResolverAddress> r = ParseResolverAddress(*resolver); !r.ok()) {
      return ReportError(io, r.status());
    }
  }
  for (const auto& [given, cleared, what] :
       {std::make_tuple(domain.has_value(), no_domains, "domain"),
        std::make_tuple(resolver.has_value(), no_resolver, "resolver")}) {
    if (given && cleared) {
      return ReportError(io, absl::InvalidArgumentError(
                                 absl::StrCat("--", what, " and --no-", what,
                                              what == std::string("domain") ? "s" : "",
                                              " contradict")));
    }
  }
  std::vector<Planned> planned;
  if (servers.has_value()) {
    absl::StatusOr<std::vector<Server>> parsed_servers = ParseServers(*servers);
    if (!parsed_servers.ok()) return ReportError(io, parsed_servers.status());
    for (const Server& s : *parsed_servers) {
      if (s.address.has_value()) {
        // 0.0.0.0 and friends would fail every scheduled scan: say so now.
        absl::Status special = SpecialPurposeRefusal(IpRange{*s.address, *s.address});
        if (!special.ok()) return ReportError(io, special);
      }
      planned.push_back({EntryKind::kServer, s.host});
    }
  }
  if (ips.has_value()) {
    absl::StatusOr<std::vector<IpRange>> ranges = ParseIpRanges(*ips);
    if (!ranges.ok()) return ReportError(io, ranges.status());
    for (const IpRange& r : *ranges) {
      if (absl::Status special = SpecialPurposeRefusal(r); !special.ok()) {
        return ReportError(io, special);
      }
      planned.push_back({EntryKind::kIpRange, r.ToString()});
    }
  }
  std::optional<PortList> port_list;
  if (ports.has_value()) {
    absl::StatusOr<PortList> p = PortList::Parse(*ports);
    if (!p.ok()) return ReportError(io, p.status());
    port_list = *std::move(p);
  }
  std::vector<std::string> removals;
  if (remove.has_value()) {
    absl::StatusOr<std::vector<absl::string_view>> items =
        SplitList(*remove, "--remove list");
    if (!items.ok()) return ReportError(io, items.status());
    for (absl::string_view item : *items) {
      // Canonicalize so "198.51.100.0-198.51.100.255" removes the /24.
      if (absl::StatusOr<IpRange> r = ParseIpRange(item); r.ok()) {
        removals.push_back(r->ToString());
      } else if (absl::StatusOr<Server> s = ParseServer(item); s.ok()) {
        removals.push_back(s->host);
      } else {
        return ReportError(io, s.status());
      }
    }
  }
  std::vector<std::pair<std::string, IpAddress>> new_mappings;
  if (resolve.has_value()) {
    absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>> r =
        ParseResolveList(*resolve);
    if (!r.ok()) return ReportError(io, r.status());
    new_mappings = *std::move(r);
  }
  if (exclude_file.has_value()) {
    *exclude_file = AbsolutePath(*exclude_file);
    absl::StatusOr<PrefixSet> loaded = LoadExclusionFile(*exclude_file);
    if (!loaded.ok()) return ReportError(io, loaded.status());
  }

  // Trust and policy files: stored as absolute paths, checked now so that a
  // typo fails here and not in tonight's cron run.
  auto absolute_files = [&](std::optional<std::string>* list) -> absl::Status {
    if (!list->has_value()) return absl::OkStatus();
    absl::StatusOr<std::vector<absl::string_view>> files = SplitList(**list, "file list");
    if (!files.ok()) return files.status();
    std::vector<std::string> out;
    for (absl::string_view f : *files) {
      out.push_back(AbsolutePath(std::string(f)));
      absl::StatusOr<std::string> text = ReadSmallFile(out.back());
      if (!text.ok()) return text.status();
      if (text->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(out.back(), " holds no PEM certificate"));
      }
    }
    **list = absl::StrJoin(out, ",");
    return absl::OkStatus();
  };
  if (absl::Status s = absolute_files(&roots); !s.ok()) return ReportError(io, s);
  if (absl::Status s = absolute_files(&intermediates); !s.ok()) return ReportError(io, s);
  if (policy.has_value()) {
    *policy = AbsolutePath(*policy);
    if (absl::StatusOr<Policy> p = LoadPolicy(*policy); !p.ok()) return ReportError(io, p.status());
  }
  if (starttls.has_value()) {
    if (absl::StatusOr<StarttlsTable> t = StarttlsTable::Parse(*starttls); !t.ok()) {
      return ReportError(io, t.status());
    }
  }
  // Contradictions are refused, not resolved by flag order.
  for (const auto& [set, clear, name] :
       {std::make_tuple(starttls.has_value(), no_starttls, "starttls"),
        std::make_tuple(roots.has_value(), no_roots, "roots"),
        std::make_tuple(intermediates.has_value(), no_intermediates, "intermediates"),
        std::make_tuple(policy.has_value(), no_policy, "policy")}) {
    if (set && clear) {
      return ReportError(io, absl::InvalidArgumentError(
                                 absl::StrCat("--", name, " and --no-", name, " contradict")));
    }
  }
  for (const std::string& spec : removals) {
    for (const Planned& p : planned) {
      if (p.spec == spec) {
        return ReportError(io, absl::InvalidArgumentError(absl::StrCat(
                                   "\"", spec, "\" is both added and removed: give one")));
      }
    }
  }
  if (no_exclude_file && exclude_file.has_value()) {
    return ReportError(io, absl::InvalidArgumentError(
                               "--exclude-file and --no-exclude-file contradict"));
  }
  if (no_resolve && resolve.has_value()) {
    return ReportError(io, absl::InvalidArgumentError("--resolve and --no-resolve contradict"));
  }
  // --ports alone rewrites every entry: only when asked for in so many words.
  if (planned.empty() && port_list.has_value() && !all) {
    return ReportError(io, absl::InvalidArgumentError(
                               "--ports without --servers or --ips would re-configure the "
                               "ports of every entry: add --all to do that"));
  }
  if (all && !(planned.empty() && port_list.has_value())) {
    return ReportError(io, absl::InvalidArgumentError(
                               "--all goes with --ports alone (every entry's ports)"));
  }
  const bool changes = !planned.empty() || port_list.has_value() || !removals.empty() ||
                       exclude_file.has_value() || no_exclude_file || resolve.has_value() ||
                       no_resolve || roots.has_value() || no_roots ||
                       intermediates.has_value() || no_intermediates || policy.has_value() ||
                       no_policy || exclude.has_value() || no_exclude ||
                       starttls.has_value() || no_starttls || domain.has_value() ||
                       no_domains || resolver.has_value() || no_resolver;
  // Only a change creates an inventory; listing one that is not there is
  // an error naming the path.
  absl::StatusOr<std::unique_ptr<Inventory>> inventory =
      changes ? OpenInventory(db) : OpenExistingInventory(db);
  if (!inventory.ok()) return ReportError(io, inventory.status());
  ConfigStore& config = (*inventory)->config();
  if (absl::Status s = config.Begin(); !s.ok()) return ReportError(io, s);
  auto fail = [&](const absl::Status& s) {
    config.Rollback();
    return ReportError(io, s);
  };
  std::vector<std::string> messages;
  for (const Planned& p : planned) {
    absl::StatusOr<DiscoverChange> change =
        config.Upsert(p.kind, p.spec, port_list);
    if (!change.ok()) return fail(change.status());
    const char* kind = p.kind == EntryKind::kServer ? "server" : "ips";
    switch (*change) {
      case DiscoverChange::kAdded:
        messages.push_back(absl::StrCat("added ", kind, " ", p.spec));
        break;
      case DiscoverChange::kPortsChanged:
        messages.push_back(absl::StrCat("re-configured ports of ", p.spec));
        break;
      case DiscoverChange::kUnchanged:
        messages.push_back(absl::StrCat("unchanged ", p.spec));
        break;
    }
  }
  if (planned.empty() && port_list.has_value()) {
    absl::StatusOr<int> changed = config.SetAllPorts(*port_list);
    if (!changed.ok()) return fail(changed.status());
    messages.push_back(absl::StrCat("re-configured ports of ", *changed,
                                    " entries to ", port_list->ToString()));
  }
  for (const std::string& spec : removals) {
    absl::StatusOr<bool> removed = config.Remove(spec);
    if (!removed.ok()) return fail(removed.status());
    if (!*removed) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--remove: \"", spec, "\" is not configured (see ers discover --list)")));
    }
    messages.push_back(absl::StrCat("removed ", spec));
  }
  if (no_exclude_file) {
    if (absl::Status s = config.ClearSetting(kExcludeFileSetting); !s.ok()) {
      return fail(s);
    }
    messages.push_back("exclusion file cleared");
  } else if (exclude_file.has_value()) {
    if (absl::Status s = config.SetSetting(kExcludeFileSetting, *exclude_file);
        !s.ok()) {
      return fail(s);
    }
    messages.push_back(absl::StrCat("exclusion file set to ", *exclude_file));
  }
  if (no_domains) {
    if (absl::Status s = config.ClearSetting(kDomainsSetting); !s.ok()) return fail(s);
    messages.push_back("domains cleared");
  } else if (!new_domains.empty()) {
    absl::StatusOr<std::optional<std::string>> stored = config.GetSetting(kDomainsSetting);
    if (!stored.ok()) return fail(stored.status());
    std::vector<std::string> all_domains =
        stored->has_value() ? absl::StrSplit(**stored, ',', absl::SkipEmpty())
                            : std::vector<std::string>();
    for (const std::string& d : new_domains) {
      if (std::find(all_domains.begin(), all_domains.end(), d) != all_domains.end()) {
        messages.push_back(absl::StrCat("domain ", d, " unchanged"));
        continue;
      }
      all_domains.push_back(d);
      messages.push_back(absl::StrCat("domain ", d, " added"));
    }
    if (absl::Status s = config.SetSetting(kDomainsSetting, absl::StrJoin(all_domains, ","));
        !s.ok()) {
      return fail(s);
    }
  }
  for (const auto& [value, clear, key, what] :
       {std::make_tuple(&resolver, no_resolver, kResolverSetting, "resolver"),
        std::make_tuple(&roots, no_roots, kRootsSetting, "roots"),
        std::make_tuple(&intermediates, no_intermediates, kIntermediatesSetting,
                        "intermediates"),
        std::make_tuple(&policy, no_policy, kPolicySetting, "policy"),
        std::make_tuple(&starttls, no_starttls, kStarttlsSetting, "starttls")}) {
    if (clear) {
      if (absl::Status s = config.ClearSetting(key); !s.ok()) return fail(s);
      messages.push_back(absl::StrCat(what, " cleared"));
    } else if (value->has_value()) {
      if (absl::Status s = config.SetSetting(key, **value); !s.ok()) return fail(s);
      messages.push_back(absl::StrCat(what, " set to ", **value));
    }
  }
  if (no_exclude) {
    if (absl::Status s = config.ClearSetting(kExcludeSetting); !s.ok()) return fail(s);
    messages.push_back("--exclude list cleared");
  } else if (exclude_lines.has_value()) {
    if (absl::Status s = config.SetSetting(kExcludeSetting, *exclude_lines); !s.ok()) {
      return fail(s);
    }
    messages.push_back(absl::StrCat("excluded ", absl::StrReplaceAll(*exclude_lines, {{"\n", ","}})));
  }
  if (no_resolve) {
    if (absl::Status s = config.ClearSetting(kResolveSetting); !s.ok()) return fail(s);
    messages.push_back("name mappings cleared");
  }
  if (!new_mappings.empty()) {
    // Merge: names given now replace their earlier addresses.
    absl::StatusOr<std::optional<std::string>> stored =
        config.GetSetting(kResolveSetting);
    if (!stored.ok()) return fail(stored.status());
    std::vector<std::pair<std::string, IpAddress>> merged;
    if (stored->has_value() && !no_resolve) {
      absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>> old =
          ParseResolveList(**stored);
      if (old.ok()) merged = *std::move(old);
    }
    for (const auto& [name, address] : new_mappings) {
      merged.erase(std::remove_if(merged.begin(), merged.end(),
                                  [&](const auto& m) { return m.first == name; }),
                   merged.end());
    }
    std::vector<std::string> parts;
    merged.insert(merged.end(), new_mappings.begin(), new_mappings.end());
    for (const auto& [name, address] : merged) {
      parts.push_back(absl::StrCat(name, "=", address.ToString()));
    }
    if (absl::Status s = config.SetSetting(kResolveSetting, absl::StrJoin(parts, ","));
        !s.ok()) {
      return fail(s);
    }
    for (const auto& [name, address] : new_mappings) {
      messages.push_back(absl::StrCat("resolve ", name, " to ", address.ToString()));
    }
  }
  if (absl::Status s = config.Commit(); !s.ok()) return fail(s);

  for (const std::string& m : messages) fprintf(io.out, "%s\n", m.c_str());
  if (list || messages.empty()) {
    absl::StatusOr<std::vector<DiscoverEntry>> entries = config.List();
    if (!entries.ok()) return ReportError(io, entries.status());
    absl::StatusOr<std::optional<std::string>> ex =
        config.GetSetting(kExcludeFileSetting);
    if (!ex.ok()) return ReportError(io, ex.status());
    PrintEntries(io, *entries, *ex);
    absl::StatusOr<std::optional<std::string>> inline_ex = config.GetSetting(kExcludeSetting);
    if (!inline_ex.ok()) return ReportError(io, inline_ex.status());
    if (inline_ex->has_value()) {
      fprintf(io.out, "excluded: %s\n", absl::StrReplaceAll(**inline_ex, {{"\n", ","}}).c_str());
    }
    absl::StatusOr<std::optional<std::string>> mapping =
        config.GetSetting(kResolveSetting);
    if (!mapping.ok()) return ReportError(io, mapping.status());
    if (mapping->has_value()) fprintf(io.out, "resolve: %s\n", (*mapping)->c_str());
    absl::StatusOr<std::optional<std::string>> stored_domains = config.GetSetting(kDomainsSetting);
    if (!stored_domains.ok()) return ReportError(io, stored_domains.status());
    if (stored_domains->has_value()) {
      for (absl::string_view d : absl::StrSplit(**stored_domains, ',', absl::SkipEmpty())) {
        fprintf(io.out, "domain  %-32s MX, SRV (%zu names) and its own addresses\n",
                std::string(d).c_str(), SrvServices().size());
      }
    }
    for (const auto& [key, label] : {std::make_pair(kResolverSetting, "resolver"),
                                     std::make_pair(kRootsSetting, "roots"),
                                     std::make_pair(kIntermediatesSetting, "intermediates"),
                                     std::make_pair(kPolicySetting, "policy"),
                                     std::make_pair(kStarttlsSetting, "starttls")}) {
      absl::StatusOr<std::optional<std::string>> v = config.GetSetting(key);
      if (!v.ok()) return ReportError(io, v.status());
      const std::string k = key;
      fprintf(io.out, "%s: %s\n", label,
              v->has_value() ? (*v)->c_str()
                             : (k == kPolicySetting     ? "defaults"
                                : k == kStarttlsSetting ? "the built-in table"
                                : k == kResolverSetting ? "the system's"
                                                        : "none"));
    }
  }
  return kExitOk;
}

}  // namespace ers

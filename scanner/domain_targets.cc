#include "scanner/domain_targets.h"

#include <uv.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ers {
namespace {

// Normal answers for a service a domain does not offer.
bool Absent(const absl::Status& s) {
  return absl::StrContains(s.message(), "NXDOMAIN") ||
         absl::StrContains(s.message(), "no records of that type");
}

std::string Host(std::string name) {
  name = absl::AsciiStrToLower(name);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

}  // namespace

const std::vector<SrvService>& SrvServices() {
  static const std::vector<SrvService> kTable = {
      {"_submission._tcp", Starttls::kSmtp},   {"_submissions._tcp", Starttls::kNone},
      {"_imap._tcp", Starttls::kImap},         {"_imaps._tcp", Starttls::kNone},
      {"_pop3._tcp", Starttls::kPop3},         {"_pop3s._tcp", Starttls::kNone},
      {"_ldap._tcp", Starttls::kLdap},         {"_ldaps._tcp", Starttls::kNone},
      {"_xmpp-client._tcp", Starttls::kXmpp},  {"_xmpp-server._tcp", Starttls::kXmppServer},
      {"_caldavs._tcp", Starttls::kNone},      {"_carddavs._tcp", Starttls::kNone},
      {"_sips._tcp", Starttls::kNone},         {"_https._tcp", Starttls::kNone},
      {"_keytransparency._https", Starttls::kNone},
      {"_sm._keytransparency._https", Starttls::kNone},
  };
  return kTable;
}

absl::StatusOr<DomainExpansion> ExpandDomains(const std::vector<std::string>& domains,
                                              const DnsOptions& dns) {
  DomainExpansion out;
  if (domains.empty()) return out;
  uv_loop_t loop;
  uv_loop_init(&loop);
  absl::StatusOr<std::unique_ptr<DnsResolver>> resolver = DnsResolver::Create(&loop, dns);
  if (!resolver.ok()) {
    uv_loop_close(&loop);
    return resolver.status();
  }
  // Answers arrive in any order; slot i of each domain keeps the table's.
  const size_t per_domain = SrvServices().size() + 1;
  std::vector<std::vector<DomainTarget>> slots(domains.size() * per_domain);
  for (size_t d = 0; d < domains.size(); ++d) {
    const std::string& domain = domains[d];
    std::vector<DomainTarget>* mx_slot = &slots[d * per_domain];
    (*resolver)->Mx(domain, [&out, mx_slot, domain](absl::StatusOr<std::vector<std::string>> mx) {
      if (!mx.ok()) {
        if (!Absent(mx.status())) out.problems.push_back(std::string(mx.status().message()));
        return;
      }
      for (const std::string& host : *mx) {
        mx_slot->push_back({Host(host), 25, Starttls::kSmtp, absl::StrCat(domain, " MX")});
      }
    });
    for (size_t s = 0; s < SrvServices().size(); ++s) {
      const SrvService service = SrvServices()[s];
      const std::string name = absl::StrCat(service.label, ".", domain);
      std::vector<DomainTarget>* slot = &slots[d * per_domain + 1 + s];
      (*resolver)->Srv(name, [&out, slot, name, service](absl::StatusOr<std::vector<SrvTarget>> srv) {
        if (!srv.ok()) {
          if (!Absent(srv.status())) out.problems.push_back(std::string(srv.status().message()));
          return;
        }
        for (const SrvTarget& t : *srv) {
          if (t.port == 0) continue;
          slot->push_back({Host(t.host), t.port, service.starttls, absl::StrCat(name, " SRV")});
        }
      });
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  resolver->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  for (size_t d = 0; d < domains.size(); ++d) {
    out.targets.push_back({Host(domains[d]), 0, Starttls::kNone, domains[d]});
    for (size_t i = 0; i < per_domain; ++i) {
      for (DomainTarget& t : slots[d * per_domain + i]) {
        const bool seen = std::any_of(out.targets.begin(), out.targets.end(), [&](const DomainTarget& o) {
          return o.host == t.host && o.port == t.port;
        });
        if (!seen) out.targets.push_back(std::move(t));
      }
    }
  }
  return out;
}

}  // namespace ers

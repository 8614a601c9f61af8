// domain_targets.h: the services a DNS domain announces, as scan targets.
// A domain expands into its mail exchangers (MX, port 25, SMTP STARTTLS),
// the targets of a table of SRV names (submission, IMAP, POP3, LDAP, XMPP,
// CalDAV, CardDAV, SIP, HTTPS, key transparency; each with the protocol its
// service implies) and the domain itself (its A/AAAA, on the configured
// ports). The queries run concurrently through c-ares on a private loop;
// the host names found are resolved later, by the sweep, like any other.
#ifndef ERS_SCANNER_DOMAIN_TARGETS_H_
#define ERS_SCANNER_DOMAIN_TARGETS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ers/record.h"
#include "scanner/dns_resolver.h"

namespace ers {

// SrvService is one SRV name of the table and what it implies.
struct SrvService {
  const char* label;  // e.g. "_imap._tcp"
  Starttls starttls;  // kNone: TLS from the first byte
};
// SrvServices returns the table, in the order queried.
const std::vector<SrvService>& SrvServices();

// DomainTarget is a host and port a domain announces. |port| 0 stands for
// the configured ports (the domain's own name).
struct DomainTarget {
  std::string host;
  uint16_t port = 0;
  Starttls starttls = Starttls::kNone;
  std::string source;  // "example.com MX", "_imap._tcp.example.com SRV", "example.com"
};

// DomainExpansion is what the domains expanded to, and the failures worth
// telling (not NXDOMAIN or no data: most domains offer few services).
struct DomainExpansion {
  std::vector<DomainTarget> targets;
  std::vector<std::string> problems;  // e.g. "_imap._tcp.example.com SRV: no answer ..."
};

// ExpandDomains queries MX and every SRV name of each of |domains|
// (validated host names) through |dns| and returns the targets found, each
// (host, port) once, in domain order. It fails only when the resolver
// cannot be set up.
[[nodiscard]] absl::StatusOr<DomainExpansion> ExpandDomains(const std::vector<std::string>& domains,
                                                            const DnsOptions& dns);

}  // namespace ers

#endif  // ERS_SCANNER_DOMAIN_TARGETS_H_

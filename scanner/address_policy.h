// address_policy.h: what an address really reaches, so that exclusions
// cannot be bypassed by another spelling of an excluded address, and which
// addresses are never scan targets by default.
//
// An IPv6 address can carry an IPv4 one: IPv4-mapped (::ffff:a.b.c.d, which
// a dual-stack socket turns into a.b.c.d), IPv4-compatible (::a.b.c.d),
// NAT64's well-known prefix (64:ff9b::a.b.c.d, which a translator turns into
// a.b.c.d) and 6to4 (2002:aabb:ccdd::/48, routed to a.b.c.d). Each of those
// reaches the IPv4 address, so an IPv4 exclusion covers them all.
#ifndef ERS_SCANNER_ADDRESS_POLICY_H_
#define ERS_SCANNER_ADDRESS_POLICY_H_

#include <optional>

#include "absl/status/status.h"

#include "base/ip_address.h"
#include "scanner/prefix_set.h"

namespace ers {

// EmbeddedV4 returns the IPv4 address that |address| reaches through one of
// the forms above, or nullopt (for IPv4 addresses, other IPv6 addresses, and
// :: and ::1, which are not IPv4-compatible addresses).
std::optional<IpAddress> EmbeddedV4(const IpAddress& address);

// NormalizeAddress returns the IPv4 address for an IPv4-mapped IPv6
// address, |address| otherwise.
IpAddress NormalizeAddress(const IpAddress& address);

// MayEmbedV4 reports whether |range| (IPv6) overlaps a block whose
// addresses embed an IPv4 address.
bool MayEmbedV4(const IpRange& range);

// AddEmbeddedV4Forms adds to |set|, for each of its IPv4 prefixes, every
// IPv6 prefix that embeds it, so that PrefixSet::Contains answers for any
// spelling of an address.
void AddEmbeddedV4Forms(PrefixSet* set);

// SpecialPurpose returns a short description of the special-purpose block
// |address| lies in (also through an embedded IPv4 address), for the blocks
// that are never scan targets unless allowed: "this host" (0.0.0.0/8, ::),
// "multicast" (224.0.0.0/4, ff00::/8), "reserved" (240.0.0.0/4, with the
// broadcast address). nullptr for any other address. Loopback is allowed.
const char* SpecialPurpose(const IpAddress& address);

// SpecialPurposeSet returns those blocks, embedded forms included.
PrefixSet SpecialPurposeSet();

// SpecialPurposeRefusal returns the error for a target range that lies
// entirely in special-purpose space (naming it, why, and the flag that
// allows it), or OK.
absl::Status SpecialPurposeRefusal(const IpRange& range);

}  // namespace ers

#endif  // ERS_SCANNER_ADDRESS_POLICY_H_

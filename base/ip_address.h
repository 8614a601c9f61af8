// ip_address.h: inclusive IPv4 and IPv6 address ranges as 128-bit
// integers, with strict parsers that say which token is wrong and why, and
// the sockaddr forms of an address. The IpAddress value type itself is
// public (include/ers/ip_address.h).
#ifndef ERS_BASE_IP_ADDRESS_H_
#define ERS_BASE_IP_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ers/ip_address.h"

namespace ers {

// IpRange is an inclusive range [first, last] of addresses of one family.
struct IpRange {
  IpAddress first;
  IpAddress last;

  // Size returns the number of addresses in the range (at most 2^128 - 1 is
  // representable; the full IPv6 space saturates).
  absl::uint128 Size() const;
  bool Contains(const IpAddress& a) const {
    return a.family == first.family && first.value <= a.value &&
           a.value <= last.value;
  }
  // ToString returns CIDR notation when the range is one prefix, a single
  // address when it holds one, and "first-last" otherwise.
  std::string ToString() const;

  friend bool operator==(const IpRange& a, const IpRange& b) {
    return a.first == b.first && a.last == b.last;
  }
};

// PrefixRange returns the range covered by |address|/|prefix_len|; the host
// bits of |address| are ignored.
IpRange PrefixRange(const IpAddress& address, int prefix_len);

// ParseIpRange parses one of: a CIDR block ("198.51.100.0/24", "2001:db8::/64"),
// a single address, or an inclusive range "a.b.c.d-e.f.g.h" (also IPv6). A CIDR
// block whose host bits are set is rejected with the block it probably meant,
// so a typo never widens a scan silently.
[[nodiscard]] absl::StatusOr<IpRange> ParseIpRange(absl::string_view text);

// ParseIpRanges parses a comma-separated list of ranges (see ParseIpRange).
// Spaces around entries are ignored; an empty entry is an error.
[[nodiscard]] absl::StatusOr<std::vector<IpRange>> ParseIpRanges(
    absl::string_view text);

// ToSockaddr fills |*out| with |address| and |port| and returns the length
// to pass with it; FromSockaddr reads an AF_INET or AF_INET6 address and
// returns false for any other family.
socklen_t ToSockaddr(const IpAddress& address, uint16_t port,
                     sockaddr_storage* out);
bool FromSockaddr(const sockaddr* in, IpAddress* out);

// RangeToPrefixes appends to |out| the smallest list of CIDR prefixes, in
// address order, whose union is |range|. Each is given as (address, length).
void RangeToPrefixes(const IpRange& range,
                     std::vector<std::pair<IpAddress, int>>* out);

}  // namespace ers

#endif  // ERS_BASE_IP_ADDRESS_H_

// ip_address.h: IPv4 and IPv6 addresses and inclusive address ranges as
// 128-bit integers, with strict parsers that say which token is wrong and why.
#ifndef ERS_BASE_IP_ADDRESS_H_
#define ERS_BASE_IP_ADDRESS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ers {

enum class IpFamily : uint8_t { kV4 = 4, kV6 = 6 };

// IpAddress is an IPv4 or IPv6 address. An IPv4 address is held in the low
// 32 bits of |value|. Addresses order by family, then numerically.
struct IpAddress {
  IpFamily family = IpFamily::kV4;
  absl::uint128 value = 0;

  static IpAddress V4(uint32_t v) { return {IpFamily::kV4, v}; }
  static IpAddress V6(absl::uint128 v) { return {IpFamily::kV6, v}; }

  // Bits returns the address width: 32 or 128.
  int Bits() const { return family == IpFamily::kV4 ? 32 : 128; }

  // ToString formats the address in its canonical text form (RFC 5952 for
  // IPv6).
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family == b.family && a.value == b.value;
  }
  friend bool operator!=(const IpAddress& a, const IpAddress& b) {
    return !(a == b);
  }
  friend bool operator<(const IpAddress& a, const IpAddress& b) {
    return a.family != b.family ? a.family < b.family : a.value < b.value;
  }
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), static_cast<uint8_t>(a.family),
                      absl::Uint128High64(a.value),
                      absl::Uint128Low64(a.value));
  }
};

// ParseIpAddress parses a dotted-quad IPv4 address or an IPv6 address
// (optionally in brackets). IPv4 octets with leading zeros are rejected, since
// some tools read them as octal. On failure it returns kInvalidArgument naming
// |text|.
[[nodiscard]] absl::StatusOr<IpAddress> ParseIpAddress(absl::string_view text);

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

// RangeToPrefixes appends to |out| the smallest list of CIDR prefixes, in
// address order, whose union is |range|. Each is given as (address, length).
void RangeToPrefixes(const IpRange& range,
                     std::vector<std::pair<IpAddress, int>>* out);

}  // namespace ers

#endif  // ERS_BASE_IP_ADDRESS_H_

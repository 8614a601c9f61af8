// ip_address.h: IpAddress, an IPv4 or IPv6 address as a value (part of the
// public API: every ScanRecord names its endpoint with one).
#ifndef ERS_INCLUDE_ERS_IP_ADDRESS_H_
#define ERS_INCLUDE_ERS_IP_ADDRESS_H_

#include <cstdint>
#include <string>
#include <utility>

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

}  // namespace ers

#endif  // ERS_INCLUDE_ERS_IP_ADDRESS_H_

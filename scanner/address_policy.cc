#include "scanner/address_policy.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

constexpr absl::uint128 kMappedPrefix = absl::uint128(0xffff) << 32;    // ::ffff:0:0/96
constexpr absl::uint128 kNat64Prefix = absl::MakeUint128(0x0064ff9b00000000ULL, 0);  // 64:ff9b::/96
constexpr uint64_t k6to4High16 = 0x2002;                                   // 2002::/16

struct V4Block {
  uint32_t base;
  int prefix_len;
  const char* why;
};
constexpr V4Block kSpecialV4[] = {
    {0x00000000, 8, "this host"},
    {0xe0000000, 4, "multicast"},
    {0xf0000000, 4, "reserved"},
};

// ForEachV6Form calls |fn| with each IPv6 range embedding the IPv4 range
// [first, last].
template <typename Fn>
void ForEachV6Form(uint32_t first, uint32_t last, Fn fn) {
  auto v6 = [](absl::uint128 v) { return IpAddress::V6(v); };
  fn(IpRange{v6(kMappedPrefix | first), v6(kMappedPrefix | last)});
  fn(IpRange{v6(kNat64Prefix | first), v6(kNat64Prefix | last)});
  // IPv4-compatible, without :: and ::1 (unspecified and loopback).
  const uint32_t compat_first = first < 2 ? 2 : first;
  if (compat_first <= last) fn(IpRange{v6(compat_first), v6(last)});
  // 6to4: 2002:V4::/48 for each address, i.e. bits 16..48 hold it.
  const absl::uint128 top = absl::uint128(k6to4High16) << 112;
  fn(IpRange{v6(top | (absl::uint128(first) << 80)),
             v6(top | (absl::uint128(last) << 80) | ((absl::uint128(1) << 80) - 1))});
}

}  // namespace

std::optional<IpAddress> EmbeddedV4(const IpAddress& a) {
  if (a.family != IpFamily::kV6) return std::nullopt;
  const absl::uint128 low32 = a.value & 0xffffffffu;
  const absl::uint128 top96 = a.value >> 32;
  if (top96 == (kMappedPrefix >> 32) || top96 == (kNat64Prefix >> 32)) {
    return IpAddress::V4(static_cast<uint32_t>(low32));
  }
  if (top96 == 0 && low32 > 1) return IpAddress::V4(static_cast<uint32_t>(low32));
  if ((a.value >> 112) == k6to4High16) {
    return IpAddress::V4(static_cast<uint32_t>((a.value >> 80) & 0xffffffffu));
  }
  return std::nullopt;
}

IpAddress NormalizeAddress(const IpAddress& a) {
  if (a.family == IpFamily::kV6 && (a.value >> 32) == (kMappedPrefix >> 32)) {
    return IpAddress::V4(static_cast<uint32_t>(a.value & 0xffffffffu));
  }
  return a;
}

bool MayEmbedV4(const IpRange& range) {
  if (range.first.family != IpFamily::kV6) return false;
  const absl::uint128 top = absl::uint128(k6to4High16) << 112;
  const IpRange blocks[] = {
      {IpAddress::V6(0), IpAddress::V6(0xffffffffu)},
      {IpAddress::V6(kMappedPrefix), IpAddress::V6(kMappedPrefix | 0xffffffffu)},
      {IpAddress::V6(kNat64Prefix), IpAddress::V6(kNat64Prefix | 0xffffffffu)},
      {IpAddress::V6(top), IpAddress::V6(top | ((absl::uint128(1) << 112) - 1))},
  };
  for (const IpRange& b : blocks) {
    if (range.first.value <= b.last.value && b.first.value <= range.last.value) return true;
  }
  return false;
}

void AddEmbeddedV4Forms(PrefixSet* set) {
  for (const IpRange& r : set->Ranges(IpFamily::kV4)) {
    ForEachV6Form(static_cast<uint32_t>(r.first.value), static_cast<uint32_t>(r.last.value),
                  [set](const IpRange& v6) { set->InsertRange(v6); });
  }
}

const char* SpecialPurpose(const IpAddress& address) {
  if (address.family == IpFamily::kV6) {
    if (address.value == 0) return "this host";
    if ((address.value >> 120) == 0xff) return "multicast";
  }
  std::optional<IpAddress> v4 = address.family == IpFamily::kV4
                                    ? std::optional<IpAddress>(address)
                                    : EmbeddedV4(address);
  if (!v4.has_value()) return nullptr;
  const uint32_t v = static_cast<uint32_t>(v4->value);
  for (const V4Block& b : kSpecialV4) {
    if ((v >> (32 - b.prefix_len)) == (b.base >> (32 - b.prefix_len))) return b.why;
  }
  return nullptr;
}

PrefixSet SpecialPurposeSet() {
  PrefixSet set;
  for (const V4Block& b : kSpecialV4) set.Insert(IpAddress::V4(b.base), b.prefix_len);
  AddEmbeddedV4Forms(&set);
  set.Insert(IpAddress::V6(0), 128);
  set.Insert(IpAddress::V6(absl::uint128(0xff) << 120), 8);
  return set;
}

absl::Status SpecialPurposeRefusal(const IpRange& range) {
  // Covered when the first address is special and the special range holding
  // it reaches the last one.
  for (const IpRange& r : SpecialPurposeSet().Ranges(range.first.family)) {
    if (r.Contains(range.first)) {
      if (!r.Contains(range.last)) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrCat(
          range.ToString(), " is special-purpose address space (", SpecialPurpose(range.first),
          "), never a scan target; --allow-special-addresses probes it anyway"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ers

// Fuzz target: address normalization and exclusion lookup. The input is an
// address (a family byte and 16 value bytes) and an exclusion list. An
// address that reaches an excluded IPv4 address through any IPv6 spelling
// is never allowed, by the single-address check (what the engine asks
// before each connect) nor by the target space built around it (what the
// walk hands out): both are compared with a linear scan of the list.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/ip_address.h"
#include "scanner/address_policy.h"
#include "scanner/port_list.h"
#include "scanner/prefix_set.h"
#include "scanner/target_space.h"
#include "scanner/target_walker.h"

namespace {

bool InRanges(const std::vector<ers::IpRange>& ranges, const ers::IpAddress& a) {
  for (const ers::IpRange& r : ranges) {
    if (r.Contains(a)) return true;
  }
  return false;
}

// Reaches reports, by the list alone, whether |a| reaches an excluded
// address: itself, or the IPv4 address it embeds.
bool Reaches(const ers::PrefixSet& list, const ers::IpAddress& a) {
  if (InRanges(list.Ranges(a.family), a)) return true;
  std::optional<ers::IpAddress> v4 = ers::EmbeddedV4(a);
  return v4.has_value() && InRanges(list.Ranges(ers::IpFamily::kV4), *v4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 17) return 0;
  ers::IpAddress a;
  a.family = (data[0] & 1) ? ers::IpFamily::kV6 : ers::IpFamily::kV4;
  uint64_t hi = 0, lo = 0;
  memcpy(&hi, data + 1, 8);
  memcpy(&lo, data + 9, 8);
  a.value = a.family == ers::IpFamily::kV4 ? absl::uint128(lo & 0xffffffffu)
                                           : absl::MakeUint128(hi, lo);
  // Steer half the IPv6 inputs into the embedding blocks.
  if (a.family == ers::IpFamily::kV6 && (data[0] & 6) != 0) {
    static const absl::uint128 kPrefixes[] = {
        absl::uint128(0xffff) << 32, absl::MakeUint128(0x0064ff9b00000000ULL, 0), 0};
    const int which = ((data[0] >> 1) & 3) - 1;
    if (which < 3) a.value = kPrefixes[which] | (lo & 0xffffffffu);
    if ((data[0] & 8) != 0) {
      a.value = (absl::uint128(0x2002) << 112) | (absl::uint128(lo & 0xffffffffu) << 80) |
                (hi & 0xffffffffffffULL);
    }
  }
  const std::string text(reinterpret_cast<const char*>(data + 17), size - 17);
  auto list = ers::ParseExclusionList(text, "fuzz");
  if (!list.ok()) return 0;

  ers::TargetSpace::Builder b;
  ers::IpRange around = ers::PrefixRange(a, a.Bits() - 4);  // 16 addresses
  b.AddRange(around, *ers::PortList::Parse("443"));
  b.SetExclusions(*list);
  b.AllowSpecialAddresses(true);
  auto space = std::move(b).Build();
  if (!space.ok()) return 0;
  // The engine's check.
  const bool reaches = Reaches(*list, a);
  if (reaches && !space->IsExcluded(a)) __builtin_trap();
  // An address whose normal form is excluded is excluded. (Not the other
  // way round: an IPv6 exclusion such as ::/0 covers ::ffff:0:0/96 but no
  // IPv4 address.)
  if (space->IsExcluded(ers::NormalizeAddress(a)) && !space->IsExcluded(a)) __builtin_trap();
  // The walk: every target handed out is allowed by both.
  ers::TargetWalker walker(&*space, 1, ers::Shard{1, 1});
  ers::Target t;
  while (walker.Next(&t)) {
    if (space->IsExcluded(t.address) || Reaches(*list, t.address)) __builtin_trap();
  }
  return 0;
}

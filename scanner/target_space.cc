#include "scanner/target_space.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "scanner/address_policy.h"

namespace ers {
namespace {

// Position is an address value that may be one past the top of the space
// (2^128 for IPv6), ordered as a 129-bit number.
using Position = std::pair<bool, absl::uint128>;

Position After(const IpAddress& a) {
  return a.value == ~absl::uint128(0) ? Position{true, 0}
                                      : Position{false, a.value + 1};
}

// Subtract appends to |out| the parts of |range| outside |excluded|, which is
// sorted and disjoint.
void Subtract(const IpRange& range, const std::vector<IpRange>& excluded,
              std::vector<IpRange>* out) {
  absl::uint128 next = range.first.value;
  bool done = false;
  auto it = std::lower_bound(
      excluded.begin(), excluded.end(), range.first.value,
      [](const IpRange& e, absl::uint128 v) { return e.last.value < v; });
  for (; it != excluded.end() && it->first.value <= range.last.value; ++it) {
    if (it->first.value > next) {
      out->push_back({{range.first.family, next},
                      {range.first.family, it->first.value - 1}});
    }
    if (it->last.value >= range.last.value) {
      done = true;
      break;
    }
    next = it->last.value + 1;
  }
  if (!done && next <= range.last.value) {
    out->push_back({{range.first.family, next}, range.last});
  }
}

class Fnv64 {
 public:
  void Add(const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < len; ++i) {
      hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
    }
  }
  void Add(absl::string_view s) {
    uint64_t n = s.size();
    Add(&n, sizeof(n));
    Add(s.data(), s.size());
  }
  void Add(uint64_t v) { Add(&v, sizeof(v)); }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

void TargetSpace::Builder::AddRange(const IpRange& range,
                                    const PortList& ports) {
  ranges_.push_back({range, ports});
}

void TargetSpace::Builder::AddServer(const Server& server,
                                     const PortList& ports) {
  if (server.address.has_value()) {
    AddRange({*server.address, *server.address}, ports);
  } else {
    names_.push_back({server.host, ports});
  }
}

void TargetSpace::Builder::SetExclusions(PrefixSet exclusions) {
  exclusions_ = std::move(exclusions);
}

void TargetSpace::Builder::AllowSpecialAddresses(bool allow) { allow_special_ = allow; }

absl::StatusOr<TargetSpace> TargetSpace::Builder::Build() && {
  TargetSpace space;
  space.exclusions_ = std::move(exclusions_);
  if (!allow_special_) space.special_ = SpecialPurposeSet();
  // What is cut out of the configured ranges: exclusions and, unless
  // allowed, special-purpose space. An excluded IPv4 block is excluded in
  // its IPv6 spellings too; those are added only when an IPv6 range could
  // hold one (four prefixes per IPv4 block).
  PrefixSet cut = space.exclusions_;
  for (const RangeEntry& e : ranges_) {
    if (e.range.first.family == IpFamily::kV6 && MayEmbedV4(e.range)) {
      AddEmbeddedV4Forms(&cut);
      break;
    }
  }
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    for (const IpRange& r : space.special_.Ranges(family)) cut.InsertRange(r);
  }

  auto intern_ports = [&space](const PortList& ports) {
    for (size_t i = 0; i < space.port_lists_.size(); ++i) {
      if (space.port_lists_[i] == ports) return static_cast<uint32_t>(i);
    }
    space.port_lists_.push_back(ports);
    return static_cast<uint32_t>(space.port_lists_.size() - 1);
  };

  for (const RangeEntry& e : ranges_) {
    if (e.ports.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("range ", e.range.ToString(), " has no ports"));
    }
    // Reject what could never be swept before any arithmetic on it.
    if (e.range.last.value - e.range.first.value >= kMaxTargets) {
      return absl::InvalidArgumentError(absl::StrCat(
          "range ", e.range.ToString(),
          " is too large to sweep (more than 2^56 addresses)"));
    }
  }

  // A range entirely in special-purpose space is a mistake: say so. A
  // range that only overlaps it (0.0.0.0/0) loses that part, counted.
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    const std::vector<IpRange> special = space.special_.Ranges(family);
    std::vector<IpRange> left;
    for (const RangeEntry& e : ranges_) {
      if (e.range.first.family != family) continue;
      left.clear();
      Subtract(e.range, special, &left);
      absl::uint128 kept = 0;
      for (const IpRange& piece : left) kept += piece.Size();
      if (left.empty()) return SpecialPurposeRefusal(e.range);
      space.special_cut_ += e.range.Size() - kept;
    }
  }

  absl::uint128 total = 0;
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    const std::vector<IpRange> excluded = cut.Ranges(family);
    struct Event {
      Position pos;
      int delta;
      uint32_t ports_index;
    };
    std::vector<Event> events;
    std::vector<IpRange> pieces;
    for (const RangeEntry& e : ranges_) {
      if (e.range.first.family != family) continue;
      uint32_t ports_index = intern_ports(e.ports);
      pieces.clear();
      Subtract(e.range, excluded, &pieces);
      for (const IpRange& piece : pieces) {
        events.push_back({{false, piece.first.value}, +1, ports_index});
        events.push_back({After(piece.last), -1, ports_index});
      }
    }
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.pos < b.pos; });

    std::map<uint32_t, int> active;  // ports_index -> covering entries
    uint32_t active_ports = 0;
    for (size_t i = 0; i < events.size();) {
      const Position pos = events[i].pos;
      for (; i < events.size() && events[i].pos == pos; ++i) {
        int& count = active[events[i].ports_index];
        count += events[i].delta;
        if (count == 0) active.erase(events[i].ports_index);
      }
      if (active.empty() || i == events.size()) continue;
      // Targets between |pos| and the next event get the union of ports.
      if (active.size() == 1) {
        active_ports = active.begin()->first;
      } else {
        PortList merged;
        for (const auto& kv : active) {
          merged = PortList::Union(merged, space.port_lists_[kv.first]);
        }
        active_ports = intern_ports(merged);
      }
      const Position end = events[i].pos;
      const absl::uint128 first = pos.second;
      const absl::uint128 count =
          end.first ? (~absl::uint128(0) - first) + 1 : end.second - first;
      if (count > kMaxTargets) {
        return absl::InvalidArgumentError(
            "the IP ranges together hold more than 2^56 addresses; narrow "
            "them");
      }
      if (!space.blocks_.empty()) {
        Block& prev = space.blocks_.back();
        if (prev.name_index < 0 && prev.first.family == family &&
            prev.ports_index == active_ports &&
            prev.first.value + prev.num_units == first) {
          prev.num_units += static_cast<uint64_t>(count);
          continue;
        }
      }
      Block block;
      block.first = {family, first};
      block.num_units = static_cast<uint64_t>(count);
      block.ports_index = active_ports;
      space.blocks_.push_back(block);
    }
  }

  // Host names: one block each, ports of repeated names merged.
  absl::flat_hash_map<std::string, size_t> name_block;
  for (const NameEntry& e : names_) {
    if (e.ports.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("server ", e.name, " has no ports"));
    }
    auto it = name_block.find(e.name);
    if (it != name_block.end()) {
      Block& block = space.blocks_[it->second];
      block.ports_index = intern_ports(
          PortList::Union(space.port_lists_[block.ports_index], e.ports));
      continue;
    }
    Block block;
    block.num_units = 1;
    block.name_index = static_cast<int32_t>(space.names_.size());
    block.ports_index = intern_ports(e.ports);
    space.names_.push_back(e.name);
    name_block[e.name] = space.blocks_.size();
    space.blocks_.push_back(block);
  }

  for (Block& block : space.blocks_) {
    block.offset = static_cast<uint64_t>(total);
    total += absl::uint128(block.num_units) *
             space.port_lists_[block.ports_index].size();
    if (total > kMaxTargets) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the target space holds more than 2^56 targets; narrow the IP "
          "ranges or ports"));
    }
  }
  space.size_ = static_cast<uint64_t>(total);
  return space;
}

bool TargetSpace::IsExcluded(const IpAddress& address) const {
  if (exclusions_.Contains(address) || special_.Contains(address)) return true;
  std::optional<IpAddress> v4 = EmbeddedV4(address);
  return v4.has_value() && exclusions_.Contains(*v4);
}

std::optional<std::string> TargetSpace::WhyNotTarget(const IpAddress& address) const {
  if (exclusions_.Contains(address)) return std::string("address is on the exclusion list");
  if (std::optional<IpAddress> v4 = EmbeddedV4(address); v4.has_value() && exclusions_.Contains(*v4)) {
    return absl::StrCat("address reaches ", v4->ToString(), ", which is on the exclusion list");
  }
  if (special_.Contains(address)) {
    const char* why = SpecialPurpose(address);
    return absl::StrCat(address.ToString(), " is special-purpose address space (",
                        why != nullptr ? why : "special", "); --allow-special-addresses probes it");
  }
  return std::nullopt;
}

Target TargetSpace::At(uint64_t index) const {
  auto it = std::upper_bound(
      blocks_.begin(), blocks_.end(), index,
      [](uint64_t i, const Block& b) { return i < b.offset; });
  const Block& block = *(it - 1);
  const PortList& ports = port_lists_[block.ports_index];
  const uint64_t local = index - block.offset;
  Target t;
  t.port = ports.At(static_cast<uint32_t>(local % ports.size()));
  if (block.name_index >= 0) {
    t.name = names_[block.name_index];
  } else {
    t.has_address = true;
    t.address = {block.first.family,
                 block.first.value + local / ports.size()};
  }
  return t;
}

uint64_t TargetSpace::num_addresses() const {
  uint64_t n = 0;
  for (const Block& b : blocks_) {
    if (b.name_index < 0) n += b.num_units;
  }
  return n;
}

uint64_t TargetSpace::Fingerprint() const {
  Fnv64 h;
  for (const Block& b : blocks_) {
    h.Add(static_cast<uint64_t>(b.first.family));
    h.Add(absl::Uint128High64(b.first.value));
    h.Add(absl::Uint128Low64(b.first.value));
    h.Add(b.num_units);
    h.Add(b.name_index >= 0 ? absl::string_view(names_[b.name_index]) : "");
    h.Add(port_lists_[b.ports_index].ToString());
  }
  return h.hash();
}

}  // namespace ers

// target_space.h: the set of (address or host name, port) targets to scan,
// indexed 0..size()-1 without ever being listed. Configured entries are
// merged into disjoint blocks (overlapping entries give each target once, with
// the union of their ports) and excluded addresses are cut out, so memory is
// proportional to the number of blocks, whatever the number of targets.
#ifndef ERS_SCANNER_TARGET_SPACE_H_
#define ERS_SCANNER_TARGET_SPACE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "scanner/port_list.h"
#include "scanner/prefix_set.h"
#include "scanner/server_list.h"

namespace ers {

// Target is one endpoint to probe. An address target has |has_address| set;
// a host-name target has |name| set and is resolved at scan time, where every
// address it resolves to is probed (after the exclusion check) with |name|
// as SNI. |name| aliases the TargetSpace that produced it.
struct Target {
  IpAddress address;
  bool has_address = false;
  absl::string_view name;
  uint16_t port = 0;
};

// kMaxTargets bounds a space so index arithmetic never overflows: 2^56 is
// ~10^17, far past any scan that could finish (0.0.0.0/0 x 65,535 ports is
// 2^48).
inline constexpr uint64_t kMaxTargets = uint64_t{1} << 56;

class TargetSpace {
 public:
  // Builder collects configured entries; Build merges them.
  class Builder {
   public:
    // AddRange adds every address of |range| on |ports|.
    void AddRange(const IpRange& range, const PortList& ports);
    // AddServer adds a host name, or a single address for an IP literal.
    void AddServer(const Server& server, const PortList& ports);
    // SetExclusions sets the addresses that are never targets; IPv4 blocks
    // cover their IPv6 spellings too (address_policy.h).
    void SetExclusions(PrefixSet exclusions);
    // AllowSpecialAddresses lets special-purpose space (SpecialPurpose:
    // this host, multicast, reserved) be targets; by default it never is.
    void AllowSpecialAddresses(bool allow);

    // Build merges the entries. It fails with kInvalidArgument when an entry
    // has no ports, lies entirely in special-purpose space that is not
    // allowed (naming it and why), or the space exceeds kMaxTargets (naming
    // the sizes).
    [[nodiscard]] absl::StatusOr<TargetSpace> Build() &&;

   private:
    struct RangeEntry {
      IpRange range;
      PortList ports;
    };
    struct NameEntry {
      std::string name;
      PortList ports;
    };
    std::vector<RangeEntry> ranges_;
    std::vector<NameEntry> names_;
    PrefixSet exclusions_;
    bool allow_special_ = false;
  };

  // Block is a run of targets sharing one port list: consecutive addresses
  // starting at |first|, or one host name.
  struct Block {
    IpAddress first;
    uint64_t num_units = 0;  // addresses, or 1 for a host name
    int32_t name_index = -1;  // into names(), or -1 for addresses
    uint32_t ports_index = 0;  // into port_lists()
    uint64_t offset = 0;  // index of the block's first target
  };

  TargetSpace() = default;

  // size returns the number of targets.
  uint64_t size() const { return size_; }
  // At returns the target with |index| < size(). Targets are laid out block
  // by block, address-major; the walker permutes the indices.
  Target At(uint64_t index) const;

  // IsExcluded reports whether |address|, in any spelling, is on the
  // exclusion list or in special-purpose space that is not allowed; the
  // engine checks it again before every connect, including for addresses
  // that host names resolve to. WhyNotTarget says which, or nullopt.
  bool IsExcluded(const IpAddress& address) const;
  std::optional<std::string> WhyNotTarget(const IpAddress& address) const;
  // special_cut returns how many addresses of the configured ranges were
  // left out as special-purpose space (ranges that overlap count twice).
  absl::uint128 special_cut() const { return special_cut_; }

  const std::vector<Block>& blocks() const { return blocks_; }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<PortList>& port_lists() const { return port_lists_; }
  const PrefixSet& exclusions() const { return exclusions_; }

  // num_addresses returns how many addresses (not targets) the space holds;
  // num_names how many host names.
  uint64_t num_addresses() const;
  uint64_t num_names() const { return names_.size(); }

  // Fingerprint identifies the space's contents, so a saved walk position is
  // only ever resumed over the same targets.
  uint64_t Fingerprint() const;

 private:
  std::vector<Block> blocks_;
  std::vector<std::string> names_;
  std::vector<PortList> port_lists_;
  PrefixSet exclusions_;
  PrefixSet special_;  // empty when allowed
  absl::uint128 special_cut_ = 0;
  uint64_t size_ = 0;
};

}  // namespace ers

#endif  // ERS_SCANNER_TARGET_SPACE_H_

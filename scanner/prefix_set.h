// prefix_set.h: a set of IPv4 and IPv6 prefixes held as a binary prefix tree
// (ZMap's constraint tree in spirit), for exclusion lists: membership costs at
// most one step per address bit, whatever the number of prefixes.
#ifndef ERS_SCANNER_PREFIX_SET_H_
#define ERS_SCANNER_PREFIX_SET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"

namespace ers {

// PrefixSet is a set of addresses given as prefixes and ranges. Inserting a
// prefix that an existing one covers is a no-op; inserting one that covers
// existing prefixes replaces them.
class PrefixSet {
 public:
  PrefixSet();

  // Insert adds |address|/|prefix_len|; host bits are ignored.
  void Insert(const IpAddress& address, int prefix_len);
  // InsertRange adds every address of |range|.
  void InsertRange(const IpRange& range);

  // Contains reports whether |address| lies in any inserted prefix.
  bool Contains(const IpAddress& address) const;

  // Ranges returns the set as disjoint, merged ranges of |family| in address
  // order.
  std::vector<IpRange> Ranges(IpFamily family) const;

  // num_prefixes returns how many minimal prefixes the tree holds.
  size_t num_prefixes() const;
  bool empty() const { return num_prefixes() == 0; }

 private:
  struct Node {
    int32_t child[2] = {-1, -1};
    bool terminal = false;
  };
  int32_t Root(IpFamily family) const {
    return family == IpFamily::kV4 ? 0 : 1;
  }
  void Collect(int32_t node, IpFamily family, absl::uint128 prefix, int depth,
               std::vector<IpRange>* out) const;

  std::vector<Node> nodes_;
};

// ParseExclusionList parses the text of an exclusion file: one entry per line
// (a CIDR block, an address or an a-b range, as for --ips), with '#' starting
// a comment and blank lines ignored. |source| names the file in errors, which
// give the line number.
[[nodiscard]] absl::StatusOr<PrefixSet> ParseExclusionList(
    absl::string_view text, absl::string_view source);

// LoadExclusionFile reads and parses the exclusion file at |path|. A file that
// cannot be read is kNotFound or kPermissionDenied with the path and reason.
[[nodiscard]] absl::StatusOr<PrefixSet> LoadExclusionFile(
    const std::string& path);

}  // namespace ers

#endif  // ERS_SCANNER_PREFIX_SET_H_

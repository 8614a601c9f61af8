#include "scanner/prefix_set.h"

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/config_lines.h"
#include "base/files.h"
#include "absl/strings/str_split.h"

namespace ers {
namespace {

// Largest exclusion file accepted; a blocklist of every routed prefix on the
// Internet is about 1 MB of text, so 64 MiB only stops mistakes.

int Bit(const IpAddress& a, int depth) {
  int shift = a.Bits() - 1 - depth;
  return static_cast<int>((a.value >> shift) & 1);
}

}  // namespace

PrefixSet::PrefixSet() : nodes_(2) {}

void PrefixSet::Insert(const IpAddress& address, int prefix_len) {
  int32_t node = Root(address.family);
  for (int depth = 0; depth < prefix_len; ++depth) {
    if (nodes_[node].terminal) return;  // already covered
    int bit = Bit(address, depth);
    if (nodes_[node].child[bit] < 0) {
      nodes_[node].child[bit] = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    node = nodes_[node].child[bit];
  }
  // This prefix covers everything below it: drop the subtree.
  nodes_[node].terminal = true;
  nodes_[node].child[0] = nodes_[node].child[1] = -1;
}

void PrefixSet::InsertRange(const IpRange& range) {
  std::vector<std::pair<IpAddress, int>> prefixes;
  RangeToPrefixes(range, &prefixes);
  for (const auto& p : prefixes) Insert(p.first, p.second);
}

bool PrefixSet::Contains(const IpAddress& address) const {
  int32_t node = Root(address.family);
  for (int depth = 0;; ++depth) {
    if (nodes_[node].terminal) return true;
    if (depth == address.Bits()) return false;
    node = nodes_[node].child[Bit(address, depth)];
    if (node < 0) return false;
  }
}

void PrefixSet::Collect(int32_t node, IpFamily family, absl::uint128 prefix,
                        int depth, std::vector<IpRange>* out) const {
  const Node& n = nodes_[node];
  if (n.terminal) {
    const int width = family == IpFamily::kV4 ? 32 : 128;
    const absl::uint128 base = depth == 0 ? 0 : prefix << (width - depth);
    IpRange r = PrefixRange(IpAddress{family, base}, depth);
    if (!out->empty() && out->back().last.value != ~absl::uint128(0) &&
        out->back().last.value + 1 == r.first.value) {
      out->back().last = r.last;  // merge adjacent prefixes
    } else {
      out->push_back(r);
    }
    return;
  }
  for (int bit = 0; bit < 2; ++bit) {
    if (n.child[bit] >= 0) {
      Collect(n.child[bit], family, prefix << 1 | bit, depth + 1, out);
    }
  }
}

std::vector<IpRange> PrefixSet::Ranges(IpFamily family) const {
  std::vector<IpRange> out;
  Collect(Root(family), family, 0, 0, &out);
  return out;
}

size_t PrefixSet::num_prefixes() const {
  size_t count = 0;
  // Only nodes reachable from the roots count: Insert may orphan subtrees.
  std::vector<int32_t> stack = {0, 1};
  while (!stack.empty()) {
    int32_t node = stack.back();
    stack.pop_back();
    if (nodes_[node].terminal) {
      ++count;
      continue;
    }
    for (int32_t child : nodes_[node].child) {
      if (child >= 0) stack.push_back(child);
    }
  }
  return count;
}

absl::StatusOr<PrefixSet> ParseExclusionList(absl::string_view text,
                                             absl::string_view source) {
  PrefixSet set;
  for (const ConfigLine& line : ConfigLines(text)) {
    absl::StatusOr<IpRange> range = ParseIpRange(line.text);
    if (!range.ok()) return ConfigLineError(source, line, range.status().message());
    set.InsertRange(*range);
  }
  return set;
}

absl::StatusOr<PrefixSet> LoadExclusionFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("exclusion file: ", text.status().message()));
  }
  return ParseExclusionList(*text, path);
}

}  // namespace ers

// port_list.h: sets of TCP ports, parsed from "8000-9000,9443", held as sorted
// disjoint ranges so that even all 65,535 ports take a few bytes.
#ifndef ERS_SCANNER_PORT_LIST_H_
#define ERS_SCANNER_PORT_LIST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ers {

// DefaultPort is one row of the product's default port table.
struct DefaultPort {
  uint16_t port;
  const char* service;
};

// DefaultPortTable returns the ports scanned when none are configured:
// 443 web, 465 SMTP, 636 LDAP, 853 DNS, 989/990 FTP, 992 Telnet, 993 IMAP,
// 995 POP.
absl::Span<const DefaultPort> DefaultPortTable();

// PortList is a set of ports from 1 to 65535, kept as merged ranges.
class PortList {
 public:
  struct Range {
    uint16_t lo;
    uint16_t hi;  // inclusive
    friend bool operator==(const Range& a, const Range& b) {
      return a.lo == b.lo && a.hi == b.hi;
    }
  };

  PortList() = default;

  // Parse parses a comma-separated list of ports and inclusive ranges
  // ("443", "8000-9000,9443"), and the named sets "default" (the default
  // port table) and "starttls" (the STARTTLS table's ports, 21, 23, 24, 25,
  // 110, 119, 143, 389, 587, 3306, 3389, 4190, 5222, 5269, 5432), as in
  // "default,starttls". Duplicates and overlaps are folded. Errors
  // (kInvalidArgument) name the bad entry: not a number, out of 1..65535, or a
  // range that ends before it starts.
  [[nodiscard]] static absl::StatusOr<PortList> Parse(absl::string_view text);

  // Defaults returns the default port table as a list.
  static PortList Defaults();

  // FromRanges builds a list from arbitrary ranges, merging them. Ranges with
  // lo > hi or lo == 0 are ignored.
  static PortList FromRanges(std::vector<Range> ranges);

  // Union returns the ports in either list.
  static PortList Union(const PortList& a, const PortList& b);

  // size returns the number of ports.
  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // At returns the |index|th port in ascending order; |index| < size().
  uint16_t At(uint32_t index) const;
  bool Contains(uint16_t port) const;
  const std::vector<Range>& ranges() const { return ranges_; }

  // ToString returns the canonical form, e.g. "443,465,989-990".
  std::string ToString() const;

  friend bool operator==(const PortList& a, const PortList& b) {
    return a.ranges_ == b.ranges_;
  }
  friend bool operator!=(const PortList& a, const PortList& b) {
    return !(a == b);
  }

 private:
  std::vector<Range> ranges_;
  // first_index_[i] is the index of ranges_[i].lo in ascending order.
  std::vector<uint32_t> first_index_;
  uint32_t size_ = 0;
};

}  // namespace ers

#endif  // ERS_SCANNER_PORT_LIST_H_

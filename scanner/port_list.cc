#include "scanner/port_list.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/list_syntax.h"
#include "tlsprobe/starttls.h"

namespace ers {
namespace {

constexpr DefaultPort kDefaultPorts[] = {
    {443, "web (HTTPS)"}, {465, "SMTP"},  {636, "LDAP"},
    {853, "DNS"},         {989, "FTP"},   {990, "FTP"},
    {992, "Telnet"},      {993, "IMAP"},  {995, "POP"},
};

absl::StatusOr<uint16_t> ParsePort(absl::string_view text,
                                   absl::string_view entry) {
  uint32_t port = 0;
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port entry \"", entry, "\": \"", text,
        "\" is not a port number (expected 1-65535 or a range like 8000-9000)"));
  }
  if (port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port entry \"", entry, "\": ", port, " is outside 1-65535"));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

absl::Span<const DefaultPort> DefaultPortTable() { return kDefaultPorts; }

PortList PortList::Defaults() {
  std::vector<Range> ranges;
  for (const DefaultPort& d : kDefaultPorts) ranges.push_back({d.port, d.port});
  return FromRanges(std::move(ranges));
}

PortList PortList::FromRanges(std::vector<Range> ranges) {
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                              [](const Range& r) {
                                return r.lo == 0 || r.lo > r.hi;
                              }),
               ranges.end());
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.lo < b.lo; });
  PortList list;
  for (const Range& r : ranges) {
    // Merge overlapping and adjacent ranges.
    if (!list.ranges_.empty() &&
        uint32_t{r.lo} <= uint32_t{list.ranges_.back().hi} + 1) {
      list.ranges_.back().hi = std::max(list.ranges_.back().hi, r.hi);
    } else {
      list.ranges_.push_back(r);
    }
  }
  for (const Range& r : list.ranges_) {
    list.first_index_.push_back(list.size_);
    list.size_ += uint32_t{r.hi} - r.lo + 1;
  }
  return list;
}

PortList PortList::Union(const PortList& a, const PortList& b) {
  std::vector<Range> all = a.ranges_;
  all.insert(all.end(), b.ranges_.begin(), b.ranges_.end());
  return FromRanges(std::move(all));
}

absl::StatusOr<PortList> PortList::Parse(absl::string_view text) {
  absl::StatusOr<std::vector<absl::string_view>> entries =
      SplitList(text, "port list");
  if (!entries.ok()) return entries.status();
  std::vector<Range> ranges;
  for (absl::string_view entry : *entries) {
    // Named sets: the default implicit-TLS ports, and the STARTTLS table's.
    if (absl::EqualsIgnoreCase(entry, "default")) {
      for (const DefaultPort& d : kDefaultPorts) ranges.push_back({d.port, d.port});
      continue;
    }
    if (absl::EqualsIgnoreCase(entry, "starttls")) {
      for (uint16_t port : StarttlsPorts()) ranges.push_back({port, port});
      continue;
    }
    size_t dash = entry.find('-');
    if (dash == absl::string_view::npos) {
      absl::StatusOr<uint16_t> port = ParsePort(entry, entry);
      if (!port.ok()) return port.status();
      ranges.push_back({*port, *port});
      continue;
    }
    absl::StatusOr<uint16_t> lo =
        ParsePort(absl::StripAsciiWhitespace(entry.substr(0, dash)), entry);
    if (!lo.ok()) return lo.status();
    absl::StatusOr<uint16_t> hi =
        ParsePort(absl::StripAsciiWhitespace(entry.substr(dash + 1)), entry);
    if (!hi.ok()) return hi.status();
    if (*hi < *lo) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port entry \"", entry, "\": the range ends before it starts"));
    }
    ranges.push_back({*lo, *hi});
  }
  return FromRanges(std::move(ranges));
}

uint16_t PortList::At(uint32_t index) const {
  auto it = std::upper_bound(first_index_.begin(), first_index_.end(), index);
  size_t i = static_cast<size_t>(it - first_index_.begin()) - 1;
  return static_cast<uint16_t>(ranges_[i].lo + (index - first_index_[i]));
}

bool PortList::Contains(uint16_t port) const {
  for (const Range& r : ranges_) {
    if (r.lo <= port && port <= r.hi) return true;
  }
  return false;
}

std::string PortList::ToString() const {
  std::string out;
  for (const Range& r : ranges_) {
    if (!out.empty()) out += ',';
    if (r.lo == r.hi) {
      absl::StrAppend(&out, r.lo);
    } else {
      absl::StrAppend(&out, r.lo, "-", r.hi);
    }
  }
  return out;
}

}  // namespace ers

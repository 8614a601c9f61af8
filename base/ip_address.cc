#include "base/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/list_syntax.h"

namespace ers {
namespace {

absl::uint128 LowMask(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 128) return ~absl::uint128(0);
  return (absl::uint128(1) << bits) - 1;
}

// HostMask returns the mask of the host bits of a /prefix_len of |family|.
absl::uint128 HostMask(IpFamily family, int prefix_len) {
  int width = family == IpFamily::kV4 ? 32 : 128;
  return LowMask(width - prefix_len);
}

absl::StatusOr<IpAddress> ParseV4(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not an IPv4 address (expected four dotted octets)"));
  }
  uint32_t value = 0;
  for (absl::string_view part : parts) {
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), absl::ascii_isdigit)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not an IPv4 address (octet \"", part,
                       "\" is not a number from 0 to 255)"));
    }
    if (part.size() > 1 && part[0] == '0') {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\": octet \"", part,
                       "\" has a leading zero (ambiguous: octal or decimal?)"));
    }
    uint32_t octet = 0;
    if (!absl::SimpleAtoi(part, &octet) || octet > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not an IPv4 address (octet \"", part,
                       "\" is greater than 255)"));
    }
    value = value << 8 | octet;
  }
  return IpAddress::V4(value);
}

absl::StatusOr<IpAddress> ParseV6(absl::string_view text) {
  // inet_pton needs a NUL-terminated copy; IPv6 text is at most 45 bytes.
  // A NUL inside would end the text early ("::\0junk" read as "::").
  if (text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("an IPv6 address must not contain a NUL byte");
  }
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof(buf)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not an IPv6 address (too long)"));
  }
  memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t bytes[16];
  if (inet_pton(AF_INET6, buf, bytes) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a valid IPv6 address"));
  }
  absl::uint128 value = 0;
  for (uint8_t b : bytes) value = value << 8 | b;
  return IpAddress::V6(value);
}

}  // namespace

std::string IpAddress::ToString() const {
  if (family == IpFamily::kV4) {
    uint32_t v = static_cast<uint32_t>(value);
    return absl::StrCat(v >> 24, ".", (v >> 16) & 255, ".", (v >> 8) & 255, ".",
                        v & 255);
  }
  uint8_t bytes[16];
  absl::uint128 v = value;
  for (int i = 15; i >= 0; --i) {
    bytes[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, bytes, buf, sizeof(buf)) == nullptr) return "?";
  return buf;
}

absl::StatusOr<IpAddress> ParseIpAddress(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("empty address");
  }
  if (text.front() == '[') {
    if (text.back() != ']') {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" has an unclosed '['"));
    }
    return ParseV6(text.substr(1, text.size() - 2));
  }
  if (text.find(':') != absl::string_view::npos) return ParseV6(text);
  return ParseV4(text);
}

absl::uint128 IpRange::Size() const {
  absl::uint128 span = last.value - first.value;
  return span == ~absl::uint128(0) ? span : span + 1;
}

IpRange PrefixRange(const IpAddress& address, int prefix_len) {
  absl::uint128 host = HostMask(address.family, prefix_len);
  IpRange r;
  r.first = {address.family, address.value & ~host};
  r.last = {address.family, address.value | host};
  return r;
}

void RangeToPrefixes(const IpRange& range,
                     std::vector<std::pair<IpAddress, int>>* out) {
  const int width = range.first.Bits();
  absl::uint128 start = range.first.value;
  const absl::uint128 end = range.last.value;
  while (true) {
    // The largest block aligned at |start| that does not pass |end|.
    int host_bits = 0;
    while (host_bits < width) {
      absl::uint128 mask = LowMask(host_bits + 1);
      if ((start & mask) != 0) break;
      if ((start | mask) > end) break;
      ++host_bits;
    }
    out->push_back({IpAddress{range.first.family, start}, width - host_bits});
    absl::uint128 block_last = start | LowMask(host_bits);
    if (block_last >= end) return;
    start = block_last + 1;
  }
}

std::string IpRange::ToString() const {
  if (first == last) return first.ToString();
  std::vector<std::pair<IpAddress, int>> prefixes;
  RangeToPrefixes(*this, &prefixes);
  if (prefixes.size() == 1) {
    return absl::StrCat(first.ToString(), "/", prefixes[0].second);
  }
  return absl::StrCat(first.ToString(), "-", last.ToString());
}

absl::StatusOr<IpRange> ParseIpRange(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    absl::StatusOr<IpAddress> base = ParseIpAddress(text.substr(0, slash));
    if (!base.ok()) return base.status();
    absl::string_view len_text = text.substr(slash + 1);
    int len = -1;
    if (len_text.empty() || len_text.size() > 3 ||
        !std::all_of(len_text.begin(), len_text.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(len_text, &len) || len > base->Bits()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", text, "\": prefix length \"", len_text,
          "\" must be a number from 0 to ", base->Bits()));
    }
    IpRange range = PrefixRange(*base, len);
    if (range.first != *base) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", text, "\" has host bits set; did you mean ",
          range.first.ToString(), "/", len, "?"));
    }
    return range;
  }
  size_t dash = text.find('-');
  if (dash != absl::string_view::npos) {
    absl::StatusOr<IpAddress> first = ParseIpAddress(text.substr(0, dash));
    if (!first.ok()) return first.status();
    absl::StatusOr<IpAddress> last = ParseIpAddress(text.substr(dash + 1));
    if (!last.ok()) return last.status();
    if (first->family != last->family) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", text, "\" mixes an IPv4 and an IPv6 address"));
    }
    if (last->value < first->value) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", text, "\": the range ends before it starts"));
    }
    return IpRange{*first, *last};
  }
  absl::StatusOr<IpAddress> single = ParseIpAddress(text);
  if (!single.ok()) return single.status();
  return IpRange{*single, *single};
}

absl::StatusOr<std::vector<IpRange>> ParseIpRanges(absl::string_view text) {
  absl::StatusOr<std::vector<absl::string_view>> entries =
      SplitList(text, "IP range list");
  if (!entries.ok()) return entries.status();
  std::vector<IpRange> out;
  for (absl::string_view entry : *entries) {
    absl::StatusOr<IpRange> range = ParseIpRange(entry);
    if (!range.ok()) return range.status();
    out.push_back(*range);
  }
  return out;
}

socklen_t ToSockaddr(const IpAddress& address, uint16_t port,
                     sockaddr_storage* out) {
  memset(out, 0, sizeof(*out));
  if (address.family == IpFamily::kV4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(static_cast<uint32_t>(address.value));
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  absl::uint128 v = address.value;
  for (int i = 15; i >= 0; --i) {
    sin6->sin6_addr.s6_addr[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return sizeof(sockaddr_in6);
}

bool FromSockaddr(const sockaddr* in, IpAddress* out) {
  if (in->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(in);
    *out = IpAddress::V4(ntohl(sin->sin_addr.s_addr));
    return true;
  }
  if (in->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(in);
    absl::uint128 v = 0;
    for (uint8_t b : sin6->sin6_addr.s6_addr) v = v << 8 | b;
    *out = IpAddress::V6(v);
    return true;
  }
  return false;
}

}  // namespace ers

#include "scanner/server_list.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/list_syntax.h"

namespace ers {
namespace {

bool LooksLikeIpLiteral(absl::string_view text) {
  if (text.empty()) return false;
  if (text.front() == '[' || text.find(':') != absl::string_view::npos) {
    return true;
  }
  // All digits and dots: an IPv4 literal (or a mistyped one).
  return std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(c) || c == '.';
  });
}

}  // namespace

absl::StatusOr<Server> ParseServer(absl::string_view text) {
  if (LooksLikeIpLiteral(text)) {
    // "host:port" with an IPv4 address or bracketed IPv6.
    size_t colon = text.rfind(':');
    if (colon != absl::string_view::npos &&
        (text.find(':') == colon || text.front() == '[') &&
        text.back() != ']') {
      return absl::InvalidArgumentError(absl::StrCat(
          "server \"", text,
          "\" includes a port; give ports separately with --ports"));
    }
    absl::StatusOr<IpAddress> address = ParseIpAddress(text);
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("server ", address.status().message()));
    }
    return Server{address->ToString(), *address};
  }
  if (text.find(':') != absl::string_view::npos ||
      text.find('/') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server \"", text,
        "\" is not a host name; give ports with --ports and IP ranges with "
        "--ips"));
  }
  std::string host = absl::AsciiStrToLower(text);
  if (!host.empty() && host.back() == '.') host.pop_back();
  absl::Status valid = ValidateHostName(host);
  if (!valid.ok()) return valid;
  return Server{std::move(host), std::nullopt};
}

absl::StatusOr<std::vector<Server>> ParseServers(absl::string_view text) {
  absl::StatusOr<std::vector<absl::string_view>> entries =
      SplitList(text, "server list");
  if (!entries.ok()) return entries.status();
  std::vector<Server> out;
  for (absl::string_view entry : *entries) {
    absl::StatusOr<Server> server = ParseServer(entry);
    if (!server.ok()) return server.status();
    if (std::find(out.begin(), out.end(), *server) == out.end()) {
      out.push_back(*std::move(server));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>> ParseResolveList(
    absl::string_view text) {
  absl::StatusOr<std::vector<absl::string_view>> items =
      SplitList(text, "--resolve list");
  if (!items.ok()) return items.status();
  std::vector<std::pair<std::string, IpAddress>> out;
  for (absl::string_view item : *items) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, '=');
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--resolve entry \"", item, "\" is not NAME=ADDRESS"));
    }
    absl::StatusOr<Server> name = ParseServer(parts[0]);
    if (!name.ok()) return name.status();
    absl::StatusOr<IpAddress> address = ParseIpAddress(parts[1]);
    if (!address.ok()) return address.status();
    out.push_back({name->host, *address});
  }
  return out;
}

}  // namespace ers

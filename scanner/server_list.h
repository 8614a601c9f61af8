// server_list.h: parsing of --servers lists: host names and IP literals.
#ifndef ERS_SCANNER_SERVER_LIST_H_
#define ERS_SCANNER_SERVER_LIST_H_

#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "base/host_name.h"  // ValidateHostName, for the callers of ParseServer

namespace ers {

// Server is one entry of a server list: a host name (lower-cased, without a
// trailing dot), or an IP literal, in which case |address| is set and |host|
// is its canonical text.
struct Server {
  std::string host;
  std::optional<IpAddress> address;

  friend bool operator==(const Server& a, const Server& b) {
    return a.host == b.host && a.address == b.address;
  }
};

// ParseServer parses one host name or IP literal ("[::1]" or "::1"). A
// "host:port" entry is rejected with a hint to use --ports.
[[nodiscard]] absl::StatusOr<Server> ParseServer(absl::string_view text);

// ParseResolveList parses "name=address,name2=address2" (curl's --resolve,
// without ports): a name may appear more than once, for several addresses.
[[nodiscard]] absl::StatusOr<std::vector<std::pair<std::string, IpAddress>>>
ParseResolveList(absl::string_view text);

// ParseServers parses a comma-separated server list; duplicates are folded,
// keeping the first occurrence's order.
[[nodiscard]] absl::StatusOr<std::vector<Server>> ParseServers(
    absl::string_view text);

}  // namespace ers

#endif  // ERS_SCANNER_SERVER_LIST_H_

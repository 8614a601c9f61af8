// dns_resolver.h: DNS queries on a libuv loop through c-ares: the
// addresses of a host name, SRV and MX records, the PTR name of an address.
// Each query runs concurrently with the others on the caller's loop (c-ares
// sockets watched by uv_poll handles, its timeouts by one uv_timer); its
// callback runs once, on the loop's thread. Failures are classified
// ("no such name (NXDOMAIN)", "the DNS server failed (SERVFAIL)", "no
// answer from the DNS server", ...). Not thread-safe: one resolver per loop.
#ifndef ERS_SCANNER_DNS_RESOLVER_H_
#define ERS_SCANNER_DNS_RESOLVER_H_

#include <ares.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "ers/ip_address.h"

namespace ers {

// ResolverAddress is a DNS server given as ADDRESS[:PORT] (IPv6 in
// brackets when a port follows: [::1]:5353), port 53 by default.
struct ResolverAddress {
  IpAddress address;
  uint16_t port = 53;
  std::string ToString() const;
};
[[nodiscard]] absl::StatusOr<ResolverAddress> ParseResolverAddress(absl::string_view text);

// SrvTarget is one SRV record's target (a host name, never ".") and port.
struct SrvTarget {
  std::string host;
  uint16_t port = 0;
  uint16_t priority = 0;
};

// DnsOptions configure a resolver. Without |server| it uses the system's
// configuration (/etc/resolv.conf).
struct DnsOptions {
  std::optional<ResolverAddress> server;
  uint32_t timeout_ms = 2000;  // per try
  int tries = 2;
};

class DnsResolver {
 public:
  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  // Create makes a resolver on |loop|, which must outlive it. Destroying it
  // ends every pending query with a kCancelled status; the caller then runs
  // the loop once more so that its handles close.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<DnsResolver>> Create(
      uv_loop_t* loop, const DnsOptions& options);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // Addresses resolves |name| to its IPv4 and IPv6 addresses (following
  // CNAMEs), at most |max| of them, in the order the server gave.
  void Addresses(const std::string& name, size_t max, Callback<std::vector<IpAddress>> done);
  // Srv returns the SRV targets of |name| (e.g. "_imap._tcp.example.com"),
  // by priority; a target of "." (the service is not offered) is left out.
  void Srv(const std::string& name, Callback<std::vector<SrvTarget>> done);
  // Mx returns the mail exchangers of |name|, by preference.
  void Mx(const std::string& name, Callback<std::vector<std::string>> done);
  // Ptr returns the names |address| maps back to.
  void Ptr(const IpAddress& address, Callback<std::vector<std::string>> done);

  // pending returns the number of queries not yet answered.
  size_t pending() const { return pending_; }

 private:
  struct Poll;
  template <typename T>
  struct Query;
  DnsResolver(uv_loop_t* loop);
  static void SocketStateCb(void* data, ares_socket_t fd, int readable, int writable);
  static void PollCb(uv_poll_t* handle, int status, int events);
  static void TimerCb(uv_timer_t* timer);
  void ArmTimer();
  template <typename T>
  void Finish(Query<T>* query, absl::StatusOr<T> result);

  uv_loop_t* loop_;
  ares_channel channel_ = nullptr;
  uv_timer_t* timer_ = nullptr;  // freed by its close callback
  std::unordered_map<ares_socket_t, Poll*> polls_;
  size_t pending_ = 0;
};

// DnsErrorText classifies a c-ares status for a result's detail.
std::string DnsErrorText(int ares_status);

}  // namespace ers

#endif  // ERS_SCANNER_DNS_RESOLVER_H_

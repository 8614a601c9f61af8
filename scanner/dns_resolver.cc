#include "scanner/dns_resolver.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ers {
namespace {

void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

absl::Status DnsError(int status, absl::string_view what) {
  const std::string text = absl::StrCat(what, ": ", DnsErrorText(status));
  return status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ? absl::CancelledError(text)
                                                                 : absl::NotFoundError(text);
}

}  // namespace

std::string ResolverAddress::ToString() const {
  return address.family == IpFamily::kV6 ? absl::StrCat("[", address.ToString(), "]:", port)
                                         : absl::StrCat(address.ToString(), ":", port);
}

absl::StatusOr<ResolverAddress> ParseResolverAddress(absl::string_view text) {
  ResolverAddress out;
  absl::string_view host = text;
  absl::string_view port;
  if (absl::StartsWith(text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("resolver \"", text, "\": no closing ]"));
    }
    host = text.substr(1, close - 1);
    absl::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat("resolver \"", text, "\": expected :PORT after ]"));
      }
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  absl::StatusOr<IpAddress> address = ParseIpAddress(host);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolver \"", text, "\" is not ADDRESS[:PORT] (an IP address, not a name)"));
  }
  out.address = *address;
  if (!port.empty()) {
    uint32_t p = 0;
    if (!absl::SimpleAtoi(port, &p) || p < 1 || p > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("resolver \"", text, "\": port must be from 1 to 65535"));
    }
    out.port = static_cast<uint16_t>(p);
  }
  return out;
}

std::string DnsErrorText(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
      return "no such name (NXDOMAIN)";
    case ARES_ENODATA:
      return "no records of that type";
    case ARES_ESERVFAIL:
      return "the DNS server failed (SERVFAIL)";
    case ARES_EREFUSED:
      return "the DNS server refused the query (REFUSED)";
    case ARES_ETIMEOUT:
      return "no answer from the DNS server (timeout)";
    case ARES_ECONNREFUSED:
      return "the DNS server could not be reached (connection refused)";
    case ARES_EBADRESP:
    case ARES_EFORMERR:
      return "a malformed DNS answer";
    case ARES_EBADNAME:
      return "not a valid DNS name";
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return "cancelled";
    default:
      return ares_strerror(status);
  }
}

// Poll watches one c-ares socket.
struct DnsResolver::Poll {
  uv_poll_t handle;
  DnsResolver* resolver;
  ares_socket_t fd;
};

// Query is one request in flight: its callback, and what the result needs.
template <typename T>
struct DnsResolver::Query {
  DnsResolver* resolver;
  Callback<T> done;
  std::string what;  // "name", for error messages
  size_t max = 0;
};

DnsResolver::DnsResolver(uv_loop_t* loop) : loop_(loop) {}

absl::StatusOr<std::unique_ptr<DnsResolver>> DnsResolver::Create(uv_loop_t* loop,
                                                                 const DnsOptions& options) {
  InitLibrary();
  std::unique_ptr<DnsResolver> r(new DnsResolver(loop));
  ares_options opts{};
  opts.sock_state_cb = &DnsResolver::SocketStateCb;
  opts.sock_state_cb_data = r.get();
  opts.timeout = static_cast<int>(options.timeout_ms);
  opts.tries = options.tries;
  // SERVFAIL and REFUSED are answers to report, not reasons to say
  // "connection refused" after trying the next server.
  opts.flags = ARES_FLAG_NOCHECKRESP;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
  if (options.server.has_value()) {
    // A given server answers everything: no search domains, no hosts file.
    opts.ndomains = 0;
    opts.domains = nullptr;
    static char kDnsOnly[] = "b";
    opts.lookups = kDnsOnly;
    mask |= ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS;
  }
  int status = ares_init_options(&r->channel_, &opts, mask);
  if (status != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("c-ares: ", ares_strerror(status)));
  }
  if (options.server.has_value()) {
    const std::string csv = options.server->ToString();
    status = ares_set_servers_ports_csv(r->channel_, csv.c_str());
    if (status != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("resolver ", csv, ": ", ares_strerror(status)));
    }
  }
  r->timer_ = new uv_timer_t;
  uv_timer_init(loop, r->timer_);
  r->timer_->data = r.get();
  return r;
}

DnsResolver::~DnsResolver() {
  // Pending callbacks run now with ARES_EDESTRUCTION; sockets close, so the
  // state callback drops their polls.
  if (channel_ != nullptr) ares_destroy(channel_);
  for (auto& [fd, poll] : polls_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle),
             [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
  }
  polls_.clear();
  if (timer_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
}

void DnsResolver::SocketStateCb(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<DnsResolver*>(data);
  auto it = self->polls_.find(fd);
  if (!readable && !writable) {
    if (it != self->polls_.end()) {
      uv_close(reinterpret_cast<uv_handle_t*>(&it->second->handle),
               [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
      self->polls_.erase(it);
    }
    return;
  }
  Poll* poll = nullptr;
  if (it == self->polls_.end()) {
    poll = new Poll{{}, self, fd};
    if (uv_poll_init_socket(self->loop_, &poll->handle, fd) != 0) {
      delete poll;
      return;  // c-ares times the query out
    }
    poll->handle.data = poll;
    self->polls_[fd] = poll;
  } else {
    poll = it->second;
  }
  uv_poll_start(&poll->handle, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                &DnsResolver::PollCb);
}

void DnsResolver::PollCb(uv_poll_t* handle, int status, int events) {
  auto* poll = static_cast<Poll*>(handle->data);
  DnsResolver* self = poll->resolver;
  const ares_socket_t fd = poll->fd;
  // On an error let c-ares read the socket: it sees the failure itself.
  const bool readable = status < 0 || (events & UV_READABLE) != 0;
  const bool writable = status >= 0 && (events & UV_WRITABLE) != 0;
  ares_process_fd(self->channel_, readable ? fd : ARES_SOCKET_BAD,
                  writable ? fd : ARES_SOCKET_BAD);
  self->ArmTimer();
}

void DnsResolver::TimerCb(uv_timer_t* timer) {
  auto* self = static_cast<DnsResolver*>(timer->data);
  ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  self->ArmTimer();
}

void DnsResolver::ArmTimer() {
  if (pending_ == 0) {
    uv_timer_stop(timer_);
    return;
  }
  timeval tv{};
  timeval* next = ares_timeout(channel_, nullptr, &tv);
  const uint64_t ms =
      next == nullptr ? 1000 : static_cast<uint64_t>(next->tv_sec) * 1000 + next->tv_usec / 1000;
  uv_timer_start(timer_, &DnsResolver::TimerCb, ms == 0 ? 1 : ms, 0);
}

template <typename T>
void DnsResolver::Finish(Query<T>* query, absl::StatusOr<T> result) {
  std::unique_ptr<Query<T>> owned(query);
  --pending_;
  query->done(std::move(result));
}

void DnsResolver::Addresses(const std::string& name, size_t max,
                            Callback<std::vector<IpAddress>> done) {
  auto* q = new Query<std::vector<IpAddress>>{this, std::move(done), name, max};
  ++pending_;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(
      channel_, name.c_str(), nullptr, &hints,
      [](void* arg, int status, int, ares_addrinfo* info) {
        auto* q = static_cast<Query<std::vector<IpAddress>>*>(arg);
        if (status != ARES_SUCCESS) {
          if (info != nullptr) ares_freeaddrinfo(info);
          q->resolver->Finish(q, absl::StatusOr<std::vector<IpAddress>>(
                                     DnsError(status, absl::StrCat("cannot resolve ", q->what))));
          return;
        }
        std::vector<IpAddress> out;
        for (ares_addrinfo_node* n = info->nodes; n != nullptr && out.size() < q->max;
             n = n->ai_next) {
          IpAddress a;
          if (FromSockaddr(n->ai_addr, &a) && std::find(out.begin(), out.end(), a) == out.end()) {
            out.push_back(a);
          }
        }
        ares_freeaddrinfo(info);
        if (out.empty()) {
          q->resolver->Finish(q, absl::StatusOr<std::vector<IpAddress>>(absl::NotFoundError(
                                     absl::StrCat("cannot resolve ", q->what, ": no address"))));
          return;
        }
        q->resolver->Finish(q, absl::StatusOr<std::vector<IpAddress>>(std::move(out)));
      },
      q);
  ArmTimer();
}

void DnsResolver::Srv(const std::string& name, Callback<std::vector<SrvTarget>> done) {
  auto* q = new Query<std::vector<SrvTarget>>{this, std::move(done), name, 0};
  ++pending_;
  ares_query(
      channel_, name.c_str(), ns_c_in, ns_t_srv,
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        auto* q = static_cast<Query<std::vector<SrvTarget>>*>(arg);
        ares_srv_reply* reply = nullptr;
        if (status == ARES_SUCCESS) status = ares_parse_srv_reply(abuf, alen, &reply);
        if (status != ARES_SUCCESS) {
          q->resolver->Finish(q, absl::StatusOr<std::vector<SrvTarget>>(
                                     DnsError(status, absl::StrCat("SRV ", q->what))));
          return;
        }
        std::vector<SrvTarget> out;
        for (ares_srv_reply* r = reply; r != nullptr; r = r->next) {
          std::string host = r->host != nullptr ? r->host : "";
          if (host.empty() || host == ".") continue;
          out.push_back({std::move(host), r->port, r->priority});
        }
        ares_free_data(reply);
        std::stable_sort(out.begin(), out.end(), [](const SrvTarget& a, const SrvTarget& b) {
          return a.priority < b.priority;
        });
        q->resolver->Finish(q, absl::StatusOr<std::vector<SrvTarget>>(std::move(out)));
      },
      q);
  ArmTimer();
}

void DnsResolver::Mx(const std::string& name, Callback<std::vector<std::string>> done) {
  auto* q = new Query<std::vector<std::string>>{this, std::move(done), name, 0};
  ++pending_;
  ares_query(
      channel_, name.c_str(), ns_c_in, ns_t_mx,
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        auto* q = static_cast<Query<std::vector<std::string>>*>(arg);
        ares_mx_reply* reply = nullptr;
        if (status == ARES_SUCCESS) status = ares_parse_mx_reply(abuf, alen, &reply);
        if (status != ARES_SUCCESS) {
          q->resolver->Finish(q, absl::StatusOr<std::vector<std::string>>(
                                     DnsError(status, absl::StrCat("MX ", q->what))));
          return;
        }
        std::vector<std::pair<uint16_t, std::string>> sorted;
        for (ares_mx_reply* r = reply; r != nullptr; r = r->next) {
          if (r->host != nullptr && r->host[0] != '\0') sorted.emplace_back(r->priority, r->host);
        }
        ares_free_data(reply);
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<std::string> out;
        for (auto& [pref, host] : sorted) out.push_back(std::move(host));
        q->resolver->Finish(q, absl::StatusOr<std::vector<std::string>>(std::move(out)));
      },
      q);
  ArmTimer();
}

void DnsResolver::Ptr(const IpAddress& address, Callback<std::vector<std::string>> done) {
  auto* q = new Query<std::vector<std::string>>{this, std::move(done), address.ToString(), 0};
  ++pending_;
  sockaddr_storage storage;
  ToSockaddr(address, 0, &storage);
  const void* raw = nullptr;
  int len = 0;
  int family = 0;
  if (address.family == IpFamily::kV4) {
    raw = &reinterpret_cast<sockaddr_in*>(&storage)->sin_addr;
    len = sizeof(in_addr);
    family = AF_INET;
  } else {
    raw = &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr;
    len = sizeof(in6_addr);
    family = AF_INET6;
  }
  ares_gethostbyaddr(
      channel_, raw, len, family,
      [](void* arg, int status, int, hostent* host) {
        auto* q = static_cast<Query<std::vector<std::string>>*>(arg);
        if (status != ARES_SUCCESS || host == nullptr) {
          q->resolver->Finish(q, absl::StatusOr<std::vector<std::string>>(
                                     DnsError(status, absl::StrCat("PTR ", q->what))));
          return;
        }
        std::vector<std::string> out;
        if (host->h_name != nullptr) out.emplace_back(host->h_name);
        for (char** alias = host->h_aliases; alias != nullptr && *alias != nullptr; ++alias) {
          if (std::find(out.begin(), out.end(), *alias) == out.end()) out.emplace_back(*alias);
        }
        q->resolver->Finish(q, absl::StatusOr<std::vector<std::string>>(std::move(out)));
      },
      q);
  ArmTimer();
}

}  // namespace ers

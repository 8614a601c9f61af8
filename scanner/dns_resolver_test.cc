// DnsResolver against a scripted DNS server on loopback (a UDP socket served
// by a thread of the test): addresses, SRV, MX and PTR answers, and the
// failures a sweep must classify: NXDOMAIN, SERVFAIL, a server that never
// answers, a CNAME loop, a malformed answer. (The end-to-end test
// tests/dns_targets_test runs a real dnsmasq.)
#include "scanner/dns_resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ers {
namespace {

// Name encodes |name| as DNS labels.
std::string Name(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out += static_cast<char>(dot - start);
    out += name.substr(start, dot - start);
    start = dot + 1;
  }
  return out + '\0';
}

std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }

// Record is one answer record: NAME TYPE CLASS IN, TTL 60, RDATA.
std::string Record(const std::string& name, uint16_t type, const std::string& rdata) {
  return Name(name) + U16(type) + U16(1) + std::string("\0\0\0\x3c", 4) + U16(rdata.size()) + rdata;
}

// ScriptedDns answers queries on 127.0.0.1 from a thread until destroyed.
class ScriptedDns {
 public:
  ScriptedDns() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    pipe(stop_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedDns() {
    write(stop_[1], "x", 1);
    thread_.join();
    close(fd_);
    close(stop_[0]);
    close(stop_[1]);
  }
  uint16_t port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void Serve() {
    while (true) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN) != 0) return;
      char buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 17) continue;
      ++queries_;
      // The question: labels from offset 12, then type and class.
      std::string qname;
      size_t i = 12;
      while (i < static_cast<size_t>(n) && buf[i] != 0) {
        const size_t l = static_cast<uint8_t>(buf[i]);
        if (!qname.empty()) qname += '.';
        qname.append(buf + i + 1, std::min(l, static_cast<size_t>(n) - i - 1));
        i += l + 1;
      }
      const size_t qend = i + 5;
      if (qend > static_cast<size_t>(n)) continue;
      const uint16_t qtype = static_cast<uint16_t>((static_cast<uint8_t>(buf[i + 1]) << 8) |
                                                   static_cast<uint8_t>(buf[i + 2]));
      const std::string question(buf + 12, qend - 12);
      int rcode = 0;
      std::vector<std::string> answers;
      if (qname == "silent.test") continue;
      if (qname == "servfail.test") {
        rcode = 2;
      } else if (qname == "loop1.test" || qname == "loop2.test") {
        answers = {Record("loop1.test", 5, Name("loop2.test")),
                   Record("loop2.test", 5, Name("loop1.test"))};
      } else if (qname == "a.test") {
        if (qtype == 1) answers = {Record("a.test", 1, std::string("\x7f\0\0\x05", 4))};
      } else if (qname == "_imap._tcp.test" && qtype == 33) {
        answers = {Record(qname, 33, U16(10) + U16(0) + U16(143) + Name("imap.test")),
                   Record(qname, 33, U16(0) + U16(0) + U16(1143) + Name("first.test")),
                   Record(qname, 33, U16(5) + U16(0) + U16(0) + std::string(1, '\0'))};
      } else if (qname == "test" && qtype == 15) {
        answers = {Record("test", 15, U16(20) + Name("backup.test")),
                   Record("test", 15, U16(10) + Name("mail.test"))};
      } else if (qname == "5.0.0.127.in-addr.arpa" && qtype == 12) {
        answers = {Record(qname, 12, Name("a.test"))};
      } else if (qname == "garbage.test") {
        // An answer count with no answers behind it.
        std::string reply = std::string(buf, 2) + "\x81\x80" + U16(1) + U16(3) + U16(0) + U16(0) + question;
        sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        continue;
      } else {
        rcode = 3;
      }
      std::string reply = std::string(buf, 2) + static_cast<char>(0x81) +
                          static_cast<char>(0x80 | rcode) + U16(1) + U16(answers.size()) + U16(0) +
                          U16(0) + question;
      for (const std::string& a : answers) reply += a;
      sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class DnsResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    DnsOptions o;
    o.server = ResolverAddress{*ParseIpAddress("127.0.0.1"), dns_.port()};
    o.timeout_ms = 300;
    o.tries = 1;
    auto r = DnsResolver::Create(&loop_, o);
    ASSERT_TRUE(r.ok()) << r.status();
    resolver_ = std::move(*r);
  }
  void TearDown() override {
    resolver_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "handles left open";
  }
  template <typename T>
  absl::StatusOr<T> Await(std::function<void(DnsResolver::Callback<T>)> start) {
    absl::StatusOr<T> out = absl::UnknownError("no callback");
    int calls = 0;
    start([&](absl::StatusOr<T> r) {
      out = std::move(r);
      ++calls;
    });
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(resolver_->pending(), 0u);
    return out;
  }
  absl::StatusOr<std::vector<IpAddress>> Addresses(const std::string& name) {
    return Await<std::vector<IpAddress>>(
        [&](auto cb) { resolver_->Addresses(name, 16, std::move(cb)); });
  }

  ScriptedDns dns_;
  uv_loop_t loop_;
  std::unique_ptr<DnsResolver> resolver_;
};

TEST_F(DnsResolverTest, Answers) {
  auto a = Addresses("a.test");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].ToString(), "127.0.0.5");
  auto srv = Await<std::vector<SrvTarget>>(
      [&](auto cb) { resolver_->Srv("_imap._tcp.test", std::move(cb)); });
  ASSERT_TRUE(srv.ok()) << srv.status();
  ASSERT_EQ(srv->size(), 2u) << "the \".\" target is left out";
  EXPECT_EQ((*srv)[0].host, "first.test");
  EXPECT_EQ((*srv)[0].port, 1143);
  EXPECT_EQ((*srv)[1].host, "imap.test");
  auto mx = Await<std::vector<std::string>>([&](auto cb) { resolver_->Mx("test", std::move(cb)); });
  ASSERT_TRUE(mx.ok()) << mx.status();
  EXPECT_EQ(*mx, (std::vector<std::string>{"mail.test", "backup.test"}));
  auto ptr = Await<std::vector<std::string>>(
      [&](auto cb) { resolver_->Ptr(*ParseIpAddress("127.0.0.5"), std::move(cb)); });
  ASSERT_TRUE(ptr.ok()) << ptr.status();
  EXPECT_EQ(*ptr, std::vector<std::string>{"a.test"});
}

TEST_F(DnsResolverTest, FailuresAreClassified) {
  struct Case {
    const char* name;
    const char* text;
  };
  for (Case c : {Case{"nx.test", "cannot resolve nx.test: no such name (NXDOMAIN)"},
                 Case{"servfail.test", "cannot resolve servfail.test: the DNS server failed (SERVFAIL)"},
                 Case{"silent.test", "cannot resolve silent.test: no answer from the DNS server (timeout)"},
                 Case{"garbage.test", "cannot resolve garbage.test: a malformed DNS answer"}}) {
    auto r = Addresses(c.name);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(std::string(r.status().message()), c.text);
  }
  // A CNAME loop ends, classified, after a bounded number of queries.
  const int before = dns_.queries();
  auto loop = Addresses("loop1.test");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kNotFound) << loop.status();
  EXPECT_LT(dns_.queries() - before, 50);
  auto srv = Await<std::vector<SrvTarget>>(
      [&](auto cb) { resolver_->Srv("_pop3._tcp.test", std::move(cb)); });
  EXPECT_EQ(std::string(srv.status().message()), "SRV _pop3._tcp.test: no such name (NXDOMAIN)");
}

TEST_F(DnsResolverTest, ManyQueriesAtOnceAndCancellation) {
  int answered = 0, cancelled = 0;
  for (int i = 0; i < 200; ++i) {
    resolver_->Addresses(i % 2 == 0 ? "a.test" : "nx.test", 4,
                         [&](absl::StatusOr<std::vector<IpAddress>> r) {
                           ++answered;
                           (void)r;
                         });
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(answered, 200);
  // Destroying the resolver ends what is pending, once each.
  resolver_->Addresses("silent.test", 4, [&](absl::StatusOr<std::vector<IpAddress>> r) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
    ++cancelled;
  });
  resolver_.reset();
  EXPECT_EQ(cancelled, 1);
}

TEST(ResolverAddressTest, Parses) {
  EXPECT_EQ(ParseResolverAddress("127.0.0.1")->ToString(), "127.0.0.1:53");
  EXPECT_EQ(ParseResolverAddress("127.0.0.1:5353")->ToString(), "127.0.0.1:5353");
  EXPECT_EQ(ParseResolverAddress("::1")->ToString(), "[::1]:53");
  EXPECT_EQ(ParseResolverAddress("[::1]:5353")->ToString(), "[::1]:5353");
  for (const char* bad : {"", "dns.example", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "[::1]x"}) {
    EXPECT_FALSE(ParseResolverAddress(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ers

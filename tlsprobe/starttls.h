// starttls.h: the plain-text phase of a STARTTLS upgrade, one dialogue per
// protocol, with no I/O of its own. The probe connects, hands the dialogue
// every byte the server sends and sends what the dialogue asks it to; when
// the dialogue says kUpgrade, the TLS handshake starts on the same
// connection. Every buffer is bounded: a server that talks without end, or
// sends one endless line, ends as kNotProtocol or kRefused, never as
// unbounded memory.
//
// The protocols and what each dialogue says:
//   smtp, lmtp   greeting 220, EHLO/LHLO, STARTTLS, 220       (RFC 3207, 2033)
//   imap         greeting * OK, STARTTLS, tagged OK           (RFC 3501)
//   pop3         greeting +OK, STLS, +OK                      (RFC 2595)
//   ftp          greeting 220, AUTH TLS, 234                  (RFC 4217)
//   nntp         greeting 200/201, STARTTLS, 382              (RFC 4642)
//   sieve        capabilities then OK, STARTTLS, OK           (RFC 5804)
//   xmpp, xmpp-server  stream header to the target's name, features with
//                <starttls/>, <starttls/>, <proceed/>         (RFC 6120)
//   ldap         StartTLS extended request, resultCode 0      (RFC 4511)
//   postgres     SSLRequest, 'S'                              (protocol 3.0)
//   mysql        server handshake with CLIENT_SSL, SSLRequest (MySQL/MariaDB)
//   rdp          X.224 connection request asking PROTOCOL_SSL, a
//                negotiation response selecting it            ([MS-RDPBCGR])
//   telnet       DO START_TLS, WILL, SB FOLLOWS both ways     (draft-altman)
#ifndef ERS_TLSPROBE_STARTTLS_H_
#define ERS_TLSPROBE_STARTTLS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ers/record.h"

namespace ers {

// ParseStarttls reads a protocol name ("smtp", ..., or "none").
absl::StatusOr<Starttls> ParseStarttls(absl::string_view name);

// StarttlsForPort returns the built-in table's protocol for |port|
// (kNone for a port not in it): 25, 587 smtp; 24 lmtp; 110 pop3; 143 imap;
// 389 ldap; 21 ftp; 5222 xmpp; 5269 xmpp-server; 5432 postgres; 3306
// mysql; 3389 rdp; 4190 sieve; 119 nntp; 23 telnet.
Starttls StarttlsForPort(uint16_t port);

// StarttlsPorts returns the table's ports, ascending (the port set
// "starttls").
const std::vector<uint16_t>& StarttlsPorts();

// StarttlsTable says which protocol each port is upgraded with: the
// built-in table (StarttlsForPort), with entries of its own on top.
class StarttlsTable {
 public:
  // Parse reads "" (the built-in table), "none" (no upgrade on any port), or
  // "PORT=PROTO,..." entries on top of the table, where PROTO is a protocol
  // name or "none" (implicit TLS on that port).
  [[nodiscard]] static absl::StatusOr<StarttlsTable> Parse(absl::string_view spec);
  Starttls For(uint16_t port) const;

 private:
  bool builtin_ = true;
  std::vector<std::pair<uint16_t, Starttls>> entries_;
};

// RecogniseBanner names the plain-text protocol whose greeting |bytes|
// starts with ("smtp", "ftp", "imap", "pop3", "ssh", "http", ...), or
// returns "" when it is none of them. For a not_tls result's detail.
const char* RecogniseBanner(absl::string_view bytes);

// PrintableLine returns the first line of |bytes| (without its line end),
// at most |max| bytes, with bytes outside printable ASCII as '?': a server's
// reply as a result may carry it.
std::string PrintableLine(absl::string_view bytes, size_t max = 256);

class StarttlsDialog {
 public:
  enum class Step {
    kRead,         // send output() (if any), then wait for the server
    kUpgrade,      // the server agreed: send output(), then start TLS
    kRefused,      // the server said no: reply() holds what it said
    kNotProtocol,  // the server does not speak the protocol: reply()
  };

  // |server_name| is what XMPP names in the stream header (the target's
  // host name, else its address).
  StarttlsDialog(Starttls protocol, std::string server_name);

  // Start returns the first step (protocols where the client speaks first
  // put their request in output()).
  Step Start();
  // OnBytes consumes what the server sent and returns the next step. After
  // kUpgrade, leftover() holds bytes the server sent after its go-ahead
  // (they belong to the TLS phase).
  Step OnBytes(absl::string_view bytes);

  // OnEnd is called when the server closed the connection or went quiet
  // before a verdict: what it sent may still be one (a banner without a
  // line end, a prompt). kRead means there is none.
  Step OnEnd();

  // output is what to send now; the caller sends it and clears it.
  std::string& output() { return output_; }
  // reply is the server's line (or message) that refused the upgrade or
  // that showed another protocol, printable and bounded.
  const std::string& reply() const { return reply_; }
  const std::string& leftover() const { return leftover_; }

  // kMaxLine bounds one line (or one binary message); kMaxBytes the whole
  // plain-text phase.
  static constexpr size_t kMaxLine = 8 * 1024;
  static constexpr size_t kMaxBytes = 64 * 1024;

 private:
  // A line-based protocol's handler sees one complete line (without CRLF).
  Step OnLine(absl::string_view line);
  Step OnLineSmtp(absl::string_view line);
  Step OnLineImap(absl::string_view line);
  Step OnLinePop3(absl::string_view line);
  Step OnLineFtp(absl::string_view line);
  Step OnLineNntp(absl::string_view line);
  Step OnLineSieve(absl::string_view line);
  // Binary and stream protocols look at the whole buffer.
  Step OnBuffer();
  Step OnXmpp();
  Step OnLdap();
  Step OnPostgres();
  Step OnMysql();
  Step OnRdp();
  Step OnTelnet();

  Step Refuse(absl::string_view said);
  Step NotProtocol(absl::string_view said);
  // NotProtocolBanner ends a binary dialogue whose first bytes are not the
  // protocol, once a line (or 256 bytes) of them is there to quote.
  Step NotProtocolBanner();
  // Upgrade ends the dialogue; the buffer's bytes from |consumed| on are
  // leftover.
  Step Upgrade(size_t consumed);
  bool LineBased() const;

  Starttls protocol_;
  std::string server_name_;
  int phase_ = 0;
  int lines_ = 0;  // complete lines received
  bool not_protocol_ = false;  // a verdict waiting for its banner
  bool done_ = false;
  Step last_ = Step::kRead;
  size_t total_ = 0;
  std::string buffer_;  // received, not yet consumed
  std::string output_;
  std::string reply_;
  std::string leftover_;
  std::string greeting_;  // the first line, for a refusal without words
};

}  // namespace ers

#endif  // ERS_TLSPROBE_STARTTLS_H_

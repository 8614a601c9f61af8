#include "tlsprobe/starttls.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ers {
namespace {

struct PortEntry {
  uint16_t port;
  Starttls protocol;
};

// The built-in table, by port.
constexpr PortEntry kPortTable[] = {
    {21, Starttls::kFtp},       {23, Starttls::kTelnet},    {24, Starttls::kLmtp},
    {25, Starttls::kSmtp},      {110, Starttls::kPop3},     {119, Starttls::kNntp},
    {143, Starttls::kImap},     {389, Starttls::kLdap},     {587, Starttls::kSmtp},
    {3306, Starttls::kMysql},   {3389, Starttls::kRdp},     {4190, Starttls::kSieve},
    {5222, Starttls::kXmpp},    {5269, Starttls::kXmppServer}, {5432, Starttls::kPostgres},
};

// ReplyCode reads a line's three-digit reply code (SMTP, FTP, NNTP) and
// whether the line continues ('-'): false when the line has none.
bool ReplyCode(absl::string_view line, int* code, bool* more) {
  if (line.size() < 3 || !absl::ascii_isdigit(line[0]) || !absl::ascii_isdigit(line[1]) ||
      !absl::ascii_isdigit(line[2])) {
    return false;
  }
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return false;
  *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  *more = line.size() > 3 && line[3] == '-';
  return true;
}

bool StartsWithWord(absl::string_view line, absl::string_view word) {
  if (!absl::StartsWithIgnoreCase(line, word)) return false;
  return line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t' ||
         line[word.size()] == '[' || line[word.size()] == '(';
}

bool ContainsIgnoringCase(absl::string_view haystack, absl::string_view needle) {
  return absl::StrContains(absl::AsciiStrToLower(haystack), absl::AsciiStrToLower(needle));
}

uint32_t LittleEndian(absl::string_view bytes, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return v;
}

// BerElement reads one BER element (low tag numbers, definite lengths of up
// to four bytes, as LDAP servers send them) from the front of |in|. It
// returns 1 with the tag and contents, 0 when |in| holds only part of it,
// and -1 when it is not BER.
int BerElement(absl::string_view in, uint8_t* tag, absl::string_view* contents,
               size_t* total) {
  if (in.size() < 2) return 0;
  *tag = static_cast<uint8_t>(in[0]);
  if ((*tag & 0x1f) == 0x1f) return -1;  // high tag numbers: not LDAP's
  size_t len = static_cast<uint8_t>(in[1]);
  size_t header = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 4) return -1;  // indefinite, or absurd
    if (in.size() < 2 + n) return 0;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<uint8_t>(in[2 + i]);
    header += n;
  }
  if (len > StarttlsDialog::kMaxLine) return -1;
  if (in.size() < header + len) return 0;
  *contents = in.substr(header, len);
  *total = header + len;
  return 1;
}

// FindClosingFeatures returns the end of the XMPP stream features element
// ("</stream:features>", any prefix, or an empty "<stream:features/>"), or
// npos while it has not arrived.
size_t FindClosingFeatures(absl::string_view s) {
  for (size_t at = s.find("features"); at != absl::string_view::npos;
       at = s.find("features", at + 1)) {
    size_t open = s.rfind('<', at);
    if (open == absl::string_view::npos) continue;
    absl::string_view tag = s.substr(open, at + 8 - open);  // "<prefix:features"
    const size_t end = at + 8;
    if (tag.size() >= 2 && tag[1] == '/' && end < s.size() && s[end] == '>') return end + 1;
    if (tag.size() >= 1 && tag[1] != '/' && s.substr(end, 2) == "/>") return end + 2;
  }
  return absl::string_view::npos;
}

}  // namespace

const char* StarttlsName(Starttls p) {
  switch (p) {
    case Starttls::kNone:
      return "none";
    case Starttls::kSmtp:
      return "smtp";
    case Starttls::kLmtp:
      return "lmtp";
    case Starttls::kImap:
      return "imap";
    case Starttls::kPop3:
      return "pop3";
    case Starttls::kLdap:
      return "ldap";
    case Starttls::kFtp:
      return "ftp";
    case Starttls::kXmpp:
      return "xmpp";
    case Starttls::kXmppServer:
      return "xmpp-server";
    case Starttls::kPostgres:
      return "postgres";
    case Starttls::kMysql:
      return "mysql";
    case Starttls::kRdp:
      return "rdp";
    case Starttls::kSieve:
      return "sieve";
    case Starttls::kNntp:
      return "nntp";
    case Starttls::kTelnet:
      return "telnet";
  }
  return "none";
}

absl::StatusOr<Starttls> ParseStarttls(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  for (int i = 0; i < kNumStarttls; ++i) {
    if (lower == StarttlsName(static_cast<Starttls>(i))) return static_cast<Starttls>(i);
  }
  std::string known;
  for (int i = 1; i < kNumStarttls; ++i) {
    absl::StrAppend(&known, i > 1 ? ", " : "", StarttlsName(static_cast<Starttls>(i)));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown STARTTLS protocol \"", name,
                                                 "\" (known: ", known, ", none)"));
}

Starttls StarttlsForPort(uint16_t port) {
  for (const PortEntry& e : kPortTable) {
    if (e.port == port) return e.protocol;
  }
  return Starttls::kNone;
}

const std::vector<uint16_t>& StarttlsPorts() {
  static const std::vector<uint16_t>* const ports = [] {
    auto* v = new std::vector<uint16_t>;
    for (const PortEntry& e : kPortTable) v->push_back(e.port);
    std::sort(v->begin(), v->end());
    return v;
  }();
  return *ports;
}

absl::StatusOr<StarttlsTable> StarttlsTable::Parse(absl::string_view spec) {
  StarttlsTable table;
  spec = absl::StripAsciiWhitespace(spec);
  if (spec.empty()) return table;
  if (absl::AsciiStrToLower(spec) == "none") {
    table.builtin_ = false;
    return table;
  }
  for (absl::string_view entry : absl::StrSplit(spec, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    const size_t eq = entry.find('=');
    uint32_t port = 0;
    if (eq == absl::string_view::npos || !absl::SimpleAtoi(entry.substr(0, eq), &port) ||
        port == 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--starttls entry \"", entry, "\" is not PORT=PROTOCOL (e.g. 2525=smtp), nor \"none\""));
    }
    absl::StatusOr<Starttls> protocol = ParseStarttls(entry.substr(eq + 1));
    if (!protocol.ok()) return protocol.status();
    table.entries_.emplace_back(static_cast<uint16_t>(port), *protocol);
  }
  return table;
}

Starttls StarttlsTable::For(uint16_t port) const {
  // The last entry for a port wins, as on a command line.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == port) return it->second;
  }
  return builtin_ ? StarttlsForPort(port) : Starttls::kNone;
}

const char* RecogniseBanner(absl::string_view bytes) {
  if (absl::StartsWith(bytes, "SSH-")) return "ssh";
  if (absl::StartsWith(bytes, "HTTP/")) return "http";
  if (absl::StartsWithIgnoreCase(bytes, "* OK") || absl::StartsWithIgnoreCase(bytes, "* PREAUTH")) {
    return "imap";
  }
  if (absl::StartsWith(bytes, "+OK")) return "pop3";
  int code = 0;
  bool more = false;
  if (ReplyCode(bytes.substr(0, std::min<size_t>(bytes.size(), 4)), &code, &more)) {
    const absl::string_view line = bytes.substr(0, bytes.find('\n'));
    if (code == 220 && (ContainsIgnoringCase(line, "SMTP") ||
                        ContainsIgnoringCase(line, "mail"))) {
      return "smtp";
    }
    if (code == 220 && ContainsIgnoringCase(line, "FTP")) return "ftp";
    if (code == 200 || code == 201) return "nntp";
    if (code == 220) return "smtp or ftp";
  }
  if (absl::StartsWith(bytes, "<?xml") || absl::StartsWith(bytes, "<stream")) return "xmpp";
  if (bytes.size() >= 5 && static_cast<uint8_t>(bytes[4]) == 10 &&
      LittleEndian(bytes, 0, 3) + 4 >= bytes.size() && LittleEndian(bytes, 0, 3) < 1024) {
    return "mysql";
  }
  return "";
}

std::string PrintableLine(absl::string_view bytes, size_t max) {
  std::string out;
  for (char c : bytes) {
    if (c == '\r' || c == '\n' || out.size() >= max) break;
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

StarttlsDialog::StarttlsDialog(Starttls protocol, std::string server_name)
    : protocol_(protocol), server_name_(std::move(server_name)) {}

bool StarttlsDialog::LineBased() const {
  switch (protocol_) {
    case Starttls::kSmtp:
    case Starttls::kLmtp:
    case Starttls::kImap:
    case Starttls::kPop3:
    case Starttls::kFtp:
    case Starttls::kNntp:
    case Starttls::kSieve:
      return true;
    default:
      return false;
  }
}

StarttlsDialog::Step StarttlsDialog::Start() {
  switch (protocol_) {
    case Starttls::kXmpp:
    case Starttls::kXmppServer:
      absl::StrAppend(&output_,
                      "<?xml version='1.0'?><stream:stream xmlns='jabber:",
                      protocol_ == Starttls::kXmpp ? "client" : "server",
                      "' xmlns:stream='http://etherx.jabber.org/streams' to='", server_name_,
                      "' version='1.0'>");
      break;
    case Starttls::kLdap: {
      // LDAPMessage { messageID 1, extendedReq [APPLICATION 23] {
      //   requestName [0] "1.3.6.1.4.1.1466.20037" } }
      static constexpr char kOid[] = "1.3.6.1.4.1.1466.20037";
      const size_t oid_len = sizeof(kOid) - 1;  // 22
      output_ = {0x30, static_cast<char>(oid_len + 7), 0x02, 0x01, 0x01, 0x77,
                 static_cast<char>(oid_len + 2), static_cast<char>(0x80),
                 static_cast<char>(oid_len)};
      output_.append(kOid, oid_len);
      break;
    }
    case Starttls::kPostgres:
      // SSLRequest: length 8, code 80877103.
      output_.assign("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
      break;
    case Starttls::kRdp:
      // TPKT (version 3, length 19), X.224 connection request (length
      // indicator 14, CR, no references, class 0), RDP_NEG_REQ asking for
      // TLS or CredSSP (PROTOCOL_SSL | PROTOCOL_HYBRID): either starts TLS.
      output_.assign(
          "\x03\x00\x00\x13"
          "\x0e\xe0\x00\x00\x00\x00\x00"
          "\x01\x00\x08\x00\x03\x00\x00\x00",
          19);
      break;
    default:
      break;
  }
  last_ = Step::kRead;
  return last_;
}

StarttlsDialog::Step StarttlsDialog::OnBytes(absl::string_view bytes) {
  if (done_) return last_;
  total_ += bytes.size();
  buffer_.append(bytes.data(), std::min(bytes.size(), kMaxBytes));
  if (LineBased()) {
    while (!done_) {
      const size_t nl = buffer_.find('\n');
      if (nl == std::string::npos) {
        if (buffer_.size() > kMaxLine) {
          // Binary bytes before any line end: another protocol. Text
          // without end: a talker that broke the line limit.
          const bool binary = lines_ == 0 && std::any_of(buffer_.begin(), buffer_.end(), [](char c) {
                                return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
                              });
          return binary ? NotProtocol(buffer_)
                        : Refuse(absl::StrCat("a line longer than ", kMaxLine,
                                              " bytes: ", PrintableLine(buffer_, 64)));
        }
        break;
      }
      absl::string_view line(buffer_.data(), nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (++lines_ == 1) greeting_ = PrintableLine(line);
      const size_t consumed = nl + 1;
      Step step = OnLine(line);
      if (done_) {
        if (step == Step::kUpgrade) leftover_ = buffer_.substr(consumed);
        return step;
      }
      buffer_.erase(0, consumed);
    }
  } else {
    Step step = OnBuffer();
    if (done_) return step;
  }
  if (total_ > kMaxBytes) {
    return Refuse(absl::StrCat("more than ", kMaxBytes,
                               " bytes of plain text without an answer: ", greeting_));
  }
  last_ = Step::kRead;
  return last_;
}

StarttlsDialog::Step StarttlsDialog::Refuse(absl::string_view said) {
  done_ = true;
  reply_ = PrintableLine(said);
  last_ = Step::kRefused;
  return last_;
}

StarttlsDialog::Step StarttlsDialog::NotProtocol(absl::string_view said) {
  done_ = true;
  reply_ = PrintableLine(said);
  last_ = Step::kNotProtocol;
  return last_;
}

StarttlsDialog::Step StarttlsDialog::NotProtocolBanner() {
  not_protocol_ = true;
  if (buffer_.find('\n') == std::string::npos && buffer_.size() < 256) return Step::kRead;
  return NotProtocol(buffer_);
}

StarttlsDialog::Step StarttlsDialog::OnEnd() {
  if (done_) return last_;
  if (not_protocol_ || (LineBased() && lines_ == 0 && !buffer_.empty())) {
    return NotProtocol(buffer_);
  }
  if (protocol_ == Starttls::kTelnet && phase_ == 0) {
    const absl::string_view text = absl::StripAsciiWhitespace(buffer_);
    if (!text.empty() && static_cast<uint8_t>(text[0]) != 255) {
      return Refuse(absl::StrCat("no START_TLS offered before: ", text));
    }
  }
  return Step::kRead;
}

StarttlsDialog::Step StarttlsDialog::Upgrade(size_t consumed) {
  done_ = true;
  leftover_ = buffer_.substr(std::min(consumed, buffer_.size()));
  last_ = Step::kUpgrade;
  return last_;
}

// --- line-based protocols ----------------------------------------------------

StarttlsDialog::Step StarttlsDialog::OnLine(absl::string_view line) {
  switch (protocol_) {
    case Starttls::kSmtp:
    case Starttls::kLmtp:
      return OnLineSmtp(line);
    case Starttls::kImap:
      return OnLineImap(line);
    case Starttls::kPop3:
      return OnLinePop3(line);
    case Starttls::kFtp:
      return OnLineFtp(line);
    case Starttls::kNntp:
      return OnLineNntp(line);
    case Starttls::kSieve:
      return OnLineSieve(line);
    default:
      return NotProtocol(line);
  }
}

StarttlsDialog::Step StarttlsDialog::OnLineSmtp(absl::string_view line) {
  int code = 0;
  bool more = false;
  if (!ReplyCode(line, &code, &more)) {
    return phase_ == 0 ? NotProtocol(line) : Refuse(line);
  }
  if (more) return Step::kRead;
  switch (phase_) {
    case 0:  // the greeting
      if (code != 220) return Refuse(line);
      output_ = protocol_ == Starttls::kLmtp ? "LHLO ers.invalid\r\n" : "EHLO ers.invalid\r\n";
      phase_ = 1;
      return Step::kRead;
    case 1:  // EHLO's answer; STARTTLS is asked for even when not listed,
             // so that the refusal is the server's own words
      if (code != 250) return Refuse(line);
      output_ = "STARTTLS\r\n";
      phase_ = 2;
      return Step::kRead;
    default:
      return code == 220 ? Upgrade(0) : Refuse(line);
  }
}

StarttlsDialog::Step StarttlsDialog::OnLineImap(absl::string_view line) {
  if (phase_ == 0) {
    if (StartsWithWord(line, "* OK") || StartsWithWord(line, "* PREAUTH")) {
      output_ = "ers1 STARTTLS\r\n";
      phase_ = 1;
      return Step::kRead;
    }
    if (StartsWithWord(line, "* BYE")) return Refuse(line);
    return NotProtocol(line);
  }
  if (absl::StartsWith(line, "* ") || line.empty()) return Step::kRead;  // untagged
  if (StartsWithWord(line, "ers1 OK")) return Upgrade(0);
  return Refuse(line);  // ers1 NO / BAD, or anything else
}

StarttlsDialog::Step StarttlsDialog::OnLinePop3(absl::string_view line) {
  if (phase_ == 0) {
    if (absl::StartsWith(line, "+OK")) {
      output_ = "STLS\r\n";
      phase_ = 1;
      return Step::kRead;
    }
    return absl::StartsWith(line, "-ERR") ? Refuse(line) : NotProtocol(line);
  }
  if (absl::StartsWith(line, "+OK")) return Upgrade(0);
  return Refuse(line);
}

StarttlsDialog::Step StarttlsDialog::OnLineFtp(absl::string_view line) {
  int code = 0;
  bool more = false;
  if (!ReplyCode(line, &code, &more)) {
    // Continuation lines of a multi-line reply need not carry the code.
    if (lines_ == 1) return NotProtocol(line);
    return Step::kRead;
  }
  if (more || code / 100 == 1) return Step::kRead;  // 120: ready in a moment
  if (phase_ == 0) {
    if (code != 220) return Refuse(line);
    output_ = "AUTH TLS\r\n";
    phase_ = 1;
    return Step::kRead;
  }
  return code == 234 ? Upgrade(0) : Refuse(line);
}

StarttlsDialog::Step StarttlsDialog::OnLineNntp(absl::string_view line) {
  int code = 0;
  bool more = false;
  if (!ReplyCode(line, &code, &more)) return phase_ == 0 ? NotProtocol(line) : Refuse(line);
  if (phase_ == 0) {
    if (code != 200 && code != 201) return Refuse(line);
    output_ = "STARTTLS\r\n";
    phase_ = 1;
    return Step::kRead;
  }
  return code == 382 ? Upgrade(0) : Refuse(line);
}

StarttlsDialog::Step StarttlsDialog::OnLineSieve(absl::string_view line) {
  if (phase_ == 0) {
    if (absl::StartsWith(line, "\"")) return Step::kRead;  // a capability
    if (StartsWithWord(line, "OK")) {
      output_ = "STARTTLS\r\n";
      phase_ = 1;
      return Step::kRead;
    }
    if (StartsWithWord(line, "NO") || StartsWithWord(line, "BYE")) return Refuse(line);
    return NotProtocol(line);
  }
  if (StartsWithWord(line, "OK")) return Upgrade(0);
  return Refuse(line);
}

// --- binary and stream protocols ---------------------------------------------

StarttlsDialog::Step StarttlsDialog::OnBuffer() {
  if (not_protocol_) return NotProtocolBanner();
  switch (protocol_) {
    case Starttls::kXmpp:
    case Starttls::kXmppServer:
      return OnXmpp();
    case Starttls::kLdap:
      return OnLdap();
    case Starttls::kPostgres:
      return OnPostgres();
    case Starttls::kMysql:
      return OnMysql();
    case Starttls::kRdp:
      return OnRdp();
    case Starttls::kTelnet:
      return OnTelnet();
    default:
      return NotProtocolBanner();
  }
}

StarttlsDialog::Step StarttlsDialog::OnXmpp() {
  const size_t first = buffer_.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && buffer_[first] != '<') return NotProtocolBanner();
  if (size_t e = buffer_.find("<stream:error"); e != std::string::npos) {
    // The error's condition is the first child element's name.
    const size_t child = buffer_.find('<', e + 1);
    if (child == std::string::npos || buffer_.find('>', child) == std::string::npos) {
      return Step::kRead;
    }
    return Refuse(absl::StrCat("stream error: ", buffer_.substr(child, buffer_.find('>', child) - child + 1)));
  }
  if (phase_ == 0) {
    const size_t end = FindClosingFeatures(buffer_);
    if (end == std::string::npos) return Step::kRead;
    if (buffer_.find("<starttls") == std::string::npos ||
        buffer_.find("<starttls") > end) {
      return Refuse("the stream features do not offer <starttls/>");
    }
    output_ = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    buffer_.erase(0, end);
    phase_ = 1;
    return Step::kRead;
  }
  if (size_t p = buffer_.find("<proceed"); p != std::string::npos) {
    const size_t close = buffer_.find('>', p);
    if (close == std::string::npos) return Step::kRead;
    return Upgrade(close + 1);
  }
  if (size_t f = buffer_.find("<failure"); f != std::string::npos) {
    return Refuse(buffer_.substr(f));
  }
  return Step::kRead;
}

StarttlsDialog::Step StarttlsDialog::OnLdap() {
  uint8_t tag = 0;
  absl::string_view message;
  size_t total = 0;
  const int r = BerElement(buffer_, &tag, &message, &total);
  if (r < 0 || (buffer_.size() >= 1 && static_cast<uint8_t>(buffer_[0]) != 0x30)) {
    return NotProtocolBanner();
  }
  if (r == 0) return Step::kRead;
  // LDAPMessage: messageID, then the protocol operation.
  absl::string_view id, op;
  size_t used = 0;
  if (BerElement(message, &tag, &id, &used) != 1 || tag != 0x02) return NotProtocolBanner();
  message.remove_prefix(used);
  if (BerElement(message, &tag, &op, &used) != 1) return NotProtocolBanner();
  if (tag != 0x78) return Refuse(absl::StrCat("LDAP answered with operation 0x", absl::Hex(tag)));
  // ExtendedResponse: resultCode, matchedDN, diagnosticMessage, ...
  absl::string_view code, matched, diagnostic;
  if (BerElement(op, &tag, &code, &used) != 1 || tag != 0x0a || code.empty() || code.size() > 4) {
    return NotProtocolBanner();
  }
  int result = 0;
  for (char c : code) result = (result << 8) | static_cast<uint8_t>(c);
  op.remove_prefix(used);
  if (BerElement(op, &tag, &matched, &used) == 1) {
    op.remove_prefix(used);
    (void)BerElement(op, &tag, &diagnostic, &used);
  }
  if (result == 0) return Upgrade(total);
  return Refuse(absl::StrCat("LDAP result ", result,
                             diagnostic.empty() ? "" : ": ", diagnostic));
}

StarttlsDialog::Step StarttlsDialog::OnPostgres() {
  if (buffer_.empty()) return Step::kRead;
  switch (buffer_[0]) {
    case 'S':
      return Upgrade(1);
    case 'N':
      return Refuse("N: the server does not accept SSL");
    case 'E': {
      // ErrorResponse: 'E', length, then fields (type byte, C string); the
      // message is field 'M'.
      if (buffer_.size() < 5) return Step::kRead;
      const uint32_t len = (static_cast<uint8_t>(buffer_[1]) << 24) |
                           (static_cast<uint8_t>(buffer_[2]) << 16) |
                           (static_cast<uint8_t>(buffer_[3]) << 8) |
                           static_cast<uint8_t>(buffer_[4]);
      if (len < 4 || len > kMaxLine) return NotProtocolBanner();
      if (buffer_.size() < 1 + len) return Step::kRead;
      absl::string_view fields(buffer_.data() + 5, len - 4);
      while (!fields.empty() && fields[0] != '\0') {
        const char type = fields[0];
        const size_t nul = fields.find('\0', 1);
        if (nul == absl::string_view::npos) break;
        if (type == 'M') return Refuse(absl::StrCat("E: ", fields.substr(1, nul - 1)));
        fields.remove_prefix(nul + 1);
      }
      return Refuse("E: the server refused SSL");
    }
    default:
      return NotProtocolBanner();
  }
}

StarttlsDialog::Step StarttlsDialog::OnMysql() {
  if (buffer_.size() < 4) return Step::kRead;
  const uint32_t len = LittleEndian(buffer_, 0, 3);
  if (len == 0 || len > kMaxLine) return NotProtocolBanner();
  if (buffer_.size() < 4 + len) return Step::kRead;
  absl::string_view payload(buffer_.data() + 4, len);
  const uint8_t seq = static_cast<uint8_t>(buffer_[3]);
  if (static_cast<uint8_t>(payload[0]) == 0xff) {
    if (payload.size() < 3) return NotProtocolBanner();
    // ERR packet: code (2 bytes), optionally '#' and a SQL state, message.
    absl::string_view msg = payload.substr(std::min<size_t>(3, payload.size()));
    if (!msg.empty() && msg[0] == '#') msg.remove_prefix(std::min<size_t>(6, msg.size()));
    return Refuse(absl::StrCat("error ", LittleEndian(payload, 1, 2), ": ", msg));
  }
  if (payload[0] != 10) return NotProtocolBanner();
  // Protocol 10: server version (NUL-terminated), thread id (4), scramble
  // (8), filler (1), capability flags (low 2 bytes), ...
  const size_t nul = payload.find('\0', 1);
  if (nul == absl::string_view::npos || payload.size() < nul + 1 + 4 + 8 + 1 + 2) {
    return NotProtocolBanner();
  }
  const absl::string_view version = payload.substr(1, nul - 1);
  const uint32_t capabilities = LittleEndian(payload, nul + 1 + 4 + 8 + 1, 2);
  constexpr uint32_t kClientSsl = 0x0800;
  if ((capabilities & kClientSsl) == 0) {
    return Refuse(absl::StrCat("server ", version, " does not offer SSL"));
  }
  // SSLRequest: capabilities (CLIENT_LONG_PASSWORD, CLIENT_PROTOCOL_41,
  // CLIENT_SSL, CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH), maximum
  // packet size 16 MiB, character set utf8mb4, 23 zero bytes.
  const uint32_t ours = 0x1 | 0x200 | kClientSsl | 0x8000 | 0x80000;
  output_.assign({32, 0, 0, static_cast<char>(seq + 1)});
  for (int i = 0; i < 4; ++i) output_.push_back(static_cast<char>((ours >> (8 * i)) & 0xff));
  output_.append("\x00\x00\x00\x01", 4);
  output_.push_back(45);
  output_.append(23, '\0');
  return Upgrade(4 + len);
}

StarttlsDialog::Step StarttlsDialog::OnRdp() {
  if (buffer_.size() < 4) return Step::kRead;
  if (buffer_[0] != 3 || buffer_[1] != 0) return NotProtocolBanner();
  const size_t len = (static_cast<uint8_t>(buffer_[2]) << 8) | static_cast<uint8_t>(buffer_[3]);
  if (len < 11 || len > kMaxLine) return NotProtocolBanner();
  if (buffer_.size() < len) return Step::kRead;
  // X.224 connection confirm: length indicator, 0xD0, references, class.
  if ((static_cast<uint8_t>(buffer_[5]) & 0xf0) != 0xd0) {
    return Refuse("the server did not confirm the X.224 connection");
  }
  if (len < 19) return Refuse("the server offers only standard RDP security, no TLS");
  absl::string_view neg(buffer_.data() + 11, 8);
  const uint8_t type = static_cast<uint8_t>(neg[0]);
  const uint32_t value = LittleEndian(neg, 4, 4);
  if (type == 0x03) return Refuse(absl::StrCat("RDP negotiation failure code ", value));
  if (type != 0x02) return NotProtocolBanner();
  if (value == 0) return Refuse("the server selected standard RDP security, no TLS");
  return Upgrade(len);
}

StarttlsDialog::Step StarttlsDialog::OnTelnet() {
  constexpr uint8_t kIac = 255, kDont = 254, kDo = 253, kWont = 252, kWill = 251, kSb = 250,
                    kSe = 240, kStartTls = 46, kFollows = 1;
  size_t i = 0;
  while (i < buffer_.size()) {
    const uint8_t c = static_cast<uint8_t>(buffer_[i]);
    if (c != kIac) {
      // Text before any offer of START_TLS: a login prompt without it.
      const size_t text_end = buffer_.find(static_cast<char>(kIac), i);
      absl::string_view text(buffer_.data() + i,
                             (text_end == std::string::npos ? buffer_.size() : text_end) - i);
      if (phase_ == 0) {
        // A line of text (a banner, a login prompt's line) before any offer:
        // the server does not offer START_TLS. A prompt without a line end
        // waits for OnEnd.
        const absl::string_view shown = absl::StripLeadingAsciiWhitespace(text);
        const size_t nl = shown.find('\n');
        if (!shown.empty() && nl != absl::string_view::npos) {
          return Refuse(absl::StrCat("no START_TLS offered before: ",
                                     absl::StripAsciiWhitespace(shown.substr(0, nl))));
        }
        if (!shown.empty()) break;  // keep it, wait for the rest
      }
      i += text.size();
      continue;
    }
    if (i + 1 >= buffer_.size()) break;
    const uint8_t command = static_cast<uint8_t>(buffer_[i + 1]);
    if (command == kSb) {
      const size_t end = buffer_.find(std::string{static_cast<char>(kIac), static_cast<char>(kSe)}, i + 2);
      if (end == std::string::npos) break;
      if (end == i + 4 && static_cast<uint8_t>(buffer_[i + 2]) == kStartTls &&
          static_cast<uint8_t>(buffer_[i + 3]) == kFollows && phase_ == 1) {
        output_.append({static_cast<char>(kIac), static_cast<char>(kSb), static_cast<char>(kStartTls),
                        static_cast<char>(kFollows), static_cast<char>(kIac), static_cast<char>(kSe)});
        return Upgrade(end + 2);
      }
      i = end + 2;
      continue;
    }
    if (command >= kWill && command <= kDont) {
      if (i + 2 >= buffer_.size()) break;
      const uint8_t option = static_cast<uint8_t>(buffer_[i + 2]);
      if (option == kStartTls) {
        if (command == kDo && phase_ == 0) {
          output_.append({static_cast<char>(kIac), static_cast<char>(kWill), static_cast<char>(kStartTls)});
          phase_ = 1;
        } else if (command == kDont || command == kWont) {
          return Refuse("the server declined START_TLS");
        }
      } else if (command == kDo) {
        output_.append({static_cast<char>(kIac), static_cast<char>(kWont), static_cast<char>(option)});
      } else if (command == kWill) {
        output_.append({static_cast<char>(kIac), static_cast<char>(kDont), static_cast<char>(option)});
      }
      i += 3;
      continue;
    }
    i += 2;  // a two-byte command (NOP, GA, ...)
  }
  buffer_.erase(0, i);
  return Step::kRead;
}

}  // namespace ers

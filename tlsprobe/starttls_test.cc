// The STARTTLS dialogues against scripted server transcripts: each one fed
// whole and byte by byte must say the same; refusals carry the server's
// words; other protocols are recognised; no transcript grows memory
// without bound.
#include "tlsprobe/starttls.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ers {
namespace {

using Step = StarttlsDialog::Step;

struct Talk {
  Step step = Step::kRead;
  std::string sent;  // everything the client sent, in order
  std::string reply;
  std::string leftover;
};

// Converse plays |chunks| (the server's turns, each sent after the client's
// previous output) against a dialogue; byte_by_byte splits every turn.
Talk Converse(Starttls protocol, const std::vector<std::string>& chunks,
                 bool byte_by_byte = false, const std::string& name = "host.test") {
  StarttlsDialog dialog(protocol, name);
  Talk o;
  o.step = dialog.Start();
  o.sent += dialog.output();
  dialog.output().clear();
  for (const std::string& chunk : chunks) {
    if (o.step != Step::kRead) break;
    if (byte_by_byte) {
      for (char c : chunk) {
        o.step = dialog.OnBytes(std::string(1, c));
        o.sent += dialog.output();
        dialog.output().clear();
        if (o.step != Step::kRead) break;
      }
    } else {
      o.step = dialog.OnBytes(chunk);
      o.sent += dialog.output();
      dialog.output().clear();
    }
  }
  // The server has nothing more to say.
  if (o.step == Step::kRead && !chunks.empty()) o.step = dialog.OnEnd();
  o.reply = dialog.reply();
  o.leftover = dialog.leftover();
  return o;
}

// Both ways of feeding must agree.
Talk Both(Starttls protocol, const std::vector<std::string>& chunks) {
  Talk whole = Converse(protocol, chunks, false);
  Talk bytes = Converse(protocol, chunks, true);
  EXPECT_EQ(whole.step, bytes.step);
  EXPECT_EQ(whole.sent, bytes.sent);
  EXPECT_EQ(whole.reply, bytes.reply);
  return whole;
}

TEST(StarttlsTest, Smtp) {
  Talk o = Both(Starttls::kSmtp, {"220-mail.test ESMTP\r\n220 more greeting\r\n",
                                     "250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
                                     "220 2.0.0 Ready to start TLS\r\n"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "EHLO ers.invalid\r\nSTARTTLS\r\n");
  EXPECT_TRUE(o.leftover.empty());
}

TEST(StarttlsTest, SmtpRefusals) {
  Talk o = Both(Starttls::kSmtp, {"220 mail.test ESMTP\r\n", "250 mail.test\r\n",
                                     "454 4.7.0 TLS not available due to local problem\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "454 4.7.0 TLS not available due to local problem");
  o = Both(Starttls::kSmtp, {"554 5.7.1 no service for you\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "554 5.7.1 no service for you");
  o = Both(Starttls::kSmtp, {"HTTP/1.1 400 Bad Request\r\n\r\n"});
  EXPECT_EQ(o.step, Step::kNotProtocol);
  EXPECT_EQ(o.reply, "HTTP/1.1 400 Bad Request");
}

TEST(StarttlsTest, Lmtp) {
  Talk o = Both(Starttls::kLmtp, {"220 lmtp ready\r\n", "250 ok\r\n", "220 go\r\n"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "LHLO ers.invalid\r\nSTARTTLS\r\n");
}

TEST(StarttlsTest, Imap) {
  Talk o = Both(Starttls::kImap, {"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n",
                                     "* CAPABILITY IMAP4rev1\r\ners1 OK Begin TLS negotiation now.\r\n"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "ers1 STARTTLS\r\n");
  o = Both(Starttls::kImap, {"* OK ready\r\n", "ers1 BAD Unknown command\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "ers1 BAD Unknown command");
  o = Both(Starttls::kImap, {"* BYE too many connections\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  o = Both(Starttls::kImap, {"SSH-2.0-OpenSSH_9.2\r\n"});
  EXPECT_EQ(o.step, Step::kNotProtocol);
  EXPECT_EQ(o.reply, "SSH-2.0-OpenSSH_9.2");
}

TEST(StarttlsTest, Pop3KeepsWhatFollowsTheGoAhead) {
  Talk o = Both(Starttls::kPop3, {"+OK Dovecot ready.\r\n", "+OK Begin TLS\r\n\x16\x03\x03"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "STLS\r\n");
  EXPECT_EQ(o.leftover, "\x16\x03\x03");
  o = Both(Starttls::kPop3, {"+OK hi\r\n", "-ERR not now\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "-ERR not now");
}

TEST(StarttlsTest, Ftp) {
  Talk o = Both(Starttls::kFtp, {"220-Welcome\r\n   to the server\r\n220 ready\r\n",
                                    "234 Proceed with negotiation.\r\n"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "AUTH TLS\r\n");
  o = Both(Starttls::kFtp, {"220 (vsFTPd 3.0.3)\r\n", "530 Please login with USER and PASS.\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "530 Please login with USER and PASS.");
}

TEST(StarttlsTest, NntpAndSieve) {
  Talk o = Both(Starttls::kNntp, {"200 news ready\r\n", "382 Continue with TLS negotiation\r\n"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "STARTTLS\r\n");
  o = Both(Starttls::kNntp, {"200 news ready\r\n", "580 Can not initiate TLS negotiation\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  o = Both(Starttls::kSieve, {"\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto\"\r\n"
                              "\"STARTTLS\"\r\nOK \"Dovecot ready.\"\r\n",
                              "OK \"Begin TLS negotiation now.\"\r\n"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "STARTTLS\r\n");
  o = Both(Starttls::kSieve, {"\"SIEVE\" \"x\"\r\nOK \"ready\"\r\n", "NO \"TLS not configured\"\r\n"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "NO \"TLS not configured\"");
}

TEST(StarttlsTest, XmppNamesTheTargetAndFollowsFeatures) {
  const std::string header =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' id='x' from='chat.test' version='1.0'>";
  Talk o = Both(Starttls::kXmpp,
                   {header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                             "<required/></starttls></stream:features>",
                    "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_NE(o.sent.find("to='host.test'"), std::string::npos) << o.sent;
  EXPECT_NE(o.sent.find("xmlns='jabber:client'"), std::string::npos);
  EXPECT_NE(o.sent.find("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), std::string::npos);

  o = Both(Starttls::kXmppServer, {header + "<stream:features><mechanisms/></stream:features>"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "the stream features do not offer <starttls/>");
  o = Converse(Starttls::kXmppServer, {});
  EXPECT_NE(o.sent.find("xmlns='jabber:server'"), std::string::npos);

  o = Both(Starttls::kXmpp,
           {header + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                     "</stream:error>"});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply.rfind("stream error: <host-unknown", 0), 0u) << o.reply;
  o = Both(Starttls::kXmpp, {"220 not xml\r\n"});
  EXPECT_EQ(o.step, Step::kNotProtocol);
}

TEST(StarttlsTest, Ldap) {
  Talk o = Both(Starttls::kLdap, {std::string("\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00", 14)});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, std::string("\x30\x1d\x02\x01\x01\x77\x18\x80\x16", 9) + "1.3.6.1.4.1.1466.20037");
  // Long-form lengths, as some directory servers send them.
  o = Both(Starttls::kLdap,
           {std::string("\x30\x84\x00\x00\x00\x10\x02\x01\x01\x78\x84\x00\x00\x00\x07\x0a\x01\x00\x04\x00\x04\x00", 22)});
  EXPECT_EQ(o.step, Step::kUpgrade);
  const std::string diag = "unsupported extended operation";
  std::string refusal = std::string("\x30") + static_cast<char>(12 + diag.size()) +
                        std::string("\x02\x01\x01\x78", 4) + static_cast<char>(7 + diag.size()) +
                        std::string("\x0a\x01\x02\x04\x00\x04", 6) + static_cast<char>(diag.size()) + diag;
  o = Both(Starttls::kLdap, {refusal});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "LDAP result 2: " + diag);
  o = Both(Starttls::kLdap, {"220 smtp here\r\n"});
  EXPECT_EQ(o.step, Step::kNotProtocol);
}

TEST(StarttlsTest, Postgres) {
  Talk o = Both(Starttls::kPostgres, {"S"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8));
  o = Both(Starttls::kPostgres, {"N"});
  EXPECT_EQ(o.step, Step::kRefused);
  std::string fields = std::string("SFATAL\0CXX000\0Mno SSL for you\0\0", 32);
  std::string error = "E";
  const uint32_t len = static_cast<uint32_t>(fields.size() + 4);
  error += std::string{static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                       static_cast<char>(len >> 8), static_cast<char>(len)};
  error += fields;
  o = Both(Starttls::kPostgres, {error});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "E: no SSL for you");
}

std::string MysqlGreeting(uint16_t capabilities) {
  std::string p = "\x0a";
  p += "10.11.6-MariaDB";
  p.push_back('\0');
  p += std::string("\x01\x00\x00\x00", 4);  // thread id
  p += "abcdefgh";                           // scramble
  p.push_back('\0');
  p.push_back(static_cast<char>(capabilities & 0xff));
  p.push_back(static_cast<char>(capabilities >> 8));
  p += std::string(20, '\0');
  std::string packet{static_cast<char>(p.size()), 0, 0, 0};
  return packet + p;
}

TEST(StarttlsTest, Mysql) {
  Talk o = Both(Starttls::kMysql, {MysqlGreeting(0xfffe)});
  EXPECT_EQ(o.step, Step::kUpgrade);
  ASSERT_EQ(o.sent.size(), 36u);
  EXPECT_EQ(o.sent[0], 32);
  EXPECT_EQ(o.sent[3], 1);  // sequence: the server's greeting was 0
  EXPECT_TRUE(static_cast<uint8_t>(o.sent[5]) & 0x08);  // CLIENT_SSL
  o = Both(Starttls::kMysql, {MysqlGreeting(0xf7fe & ~0x0800)});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "server 10.11.6-MariaDB does not offer SSL");
  std::string err = std::string("\xff\x6a\x04", 3) + "Host is blocked";
  o = Both(Starttls::kMysql, {std::string{static_cast<char>(err.size()), 0, 0, 0} + err});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "error 1130: Host is blocked");
}

TEST(StarttlsTest, Rdp) {
  const std::string confirm = std::string("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00", 11);
  Talk o = Both(Starttls::kRdp, {confirm + std::string("\x02\x1f\x08\x00\x01\x00\x00\x00", 8)});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent.size(), 19u);
  o = Both(Starttls::kRdp, {confirm + std::string("\x03\x00\x08\x00\x02\x00\x00\x00", 8)});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "RDP negotiation failure code 2");
  o = Both(Starttls::kRdp, {std::string("\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00", 11)});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "the server offers only standard RDP security, no TLS");
}

TEST(StarttlsTest, Telnet) {
  Talk o = Both(Starttls::kTelnet, {"\xff\xfd\x18\xff\xfd\x2e", "\xff\xfa\x2e\x01\xff\xf0"});
  EXPECT_EQ(o.step, Step::kUpgrade);
  EXPECT_EQ(o.sent, "\xff\xfc\x18\xff\xfb\x2e\xff\xfa\x2e\x01\xff\xf0");
  o = Both(Starttls::kTelnet, {"\xff\xfd\x18", "\r\nDebian GNU/Linux 12\r\nlogin: "});
  EXPECT_EQ(o.step, Step::kRefused);
  EXPECT_EQ(o.reply, "no START_TLS offered before: Debian GNU/Linux 12");
}

TEST(StarttlsTest, HostilePeersStayBounded) {
  // Endless greeting lines: refused once the plain-text budget is spent.
  StarttlsDialog smtp(Starttls::kSmtp, "x");
  smtp.Start();
  Step step = Step::kRead;
  size_t fed = 0;
  while (step == Step::kRead && fed < 16 * StarttlsDialog::kMaxBytes) {
    step = smtp.OnBytes("220-more and more greeting\r\n");
    fed += 28;
  }
  EXPECT_EQ(step, Step::kRefused);
  EXPECT_LE(fed, StarttlsDialog::kMaxBytes + 28);
  // One line of 1 MiB: ends within the line limit.
  StarttlsDialog imap(Starttls::kImap, "x");
  imap.Start();
  const std::string chunk(4096, 'A');
  step = Step::kRead;
  fed = 0;
  while (step == Step::kRead && fed < (1u << 20)) {
    step = imap.OnBytes(chunk);
    fed += chunk.size();
  }
  EXPECT_EQ(step, Step::kRefused);
  EXPECT_LE(fed, StarttlsDialog::kMaxLine + chunk.size());
  EXPECT_LE(imap.reply().size(), 256u);
  EXPECT_EQ(imap.reply().rfind("a line longer than 8192 bytes: AAAA", 0), 0u) << imap.reply();
  // The same, binary: another protocol.
  StarttlsDialog binary(Starttls::kImap, "x");
  binary.Start();
  step = Step::kRead;
  fed = 0;
  while (step == Step::kRead && fed < (1u << 20)) {
    step = binary.OnBytes(std::string(4096, '\x01'));
    fed += 4096;
  }
  EXPECT_EQ(step, Step::kNotProtocol);
  EXPECT_LE(fed, StarttlsDialog::kMaxLine + 4096);
  // A binary peer that claims a huge message.
  Talk o = Both(Starttls::kLdap, {std::string("\x30\x84\x7f\xff\xff\xff", 6)});
  EXPECT_EQ(o.step, Step::kNotProtocol);
  o = Both(Starttls::kMysql, {std::string("\xff\xff\xff\x00", 4)});
  EXPECT_EQ(o.step, Step::kNotProtocol);
  // An error packet too short for its code (found by fuzz_starttls).
  o = Both(Starttls::kMysql, {std::string("\x02\x00\x00\x00\xff\x01", 6)});
  EXPECT_EQ(o.step, Step::kNotProtocol);
  // Replies are printable whatever the server sends.
  o = Both(Starttls::kPop3, {"+OK\r\n", std::string("-ERR \x01\x02\xfe bad\r\n")});
  EXPECT_EQ(o.reply, "-ERR ??? bad");
}

TEST(StarttlsTest, PortTableNamesAndBanners) {
  EXPECT_EQ(StarttlsForPort(25), Starttls::kSmtp);
  EXPECT_EQ(StarttlsForPort(587), Starttls::kSmtp);
  EXPECT_EQ(StarttlsForPort(389), Starttls::kLdap);
  EXPECT_EQ(StarttlsForPort(5269), Starttls::kXmppServer);
  EXPECT_EQ(StarttlsForPort(443), Starttls::kNone);
  EXPECT_EQ(StarttlsPorts().size(), 15u);
  for (uint16_t port : StarttlsPorts()) {
    Starttls p = StarttlsForPort(port);
    EXPECT_NE(p, Starttls::kNone);
    absl::StatusOr<Starttls> parsed = ParseStarttls(StarttlsName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(*ParseStarttls("NONE"), Starttls::kNone);
  absl::StatusOr<Starttls> bad = ParseStarttls("gopher");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("xmpp-server"), std::string::npos);

  EXPECT_STREQ(RecogniseBanner("220 mail.test ESMTP Postfix\r\n"), "smtp");
  EXPECT_STREQ(RecogniseBanner("220 (vsFTPd 3.0.3)\r\n"), "ftp");
  EXPECT_STREQ(RecogniseBanner("* OK [CAPABILITY IMAP4rev1] ready\r\n"), "imap");
  EXPECT_STREQ(RecogniseBanner("+OK Dovecot ready.\r\n"), "pop3");
  EXPECT_STREQ(RecogniseBanner("SSH-2.0-OpenSSH_9.2\r\n"), "ssh");
  EXPECT_STREQ(RecogniseBanner("HTTP/1.1 400 Bad Request\r\n"), "http");
  EXPECT_STREQ(RecogniseBanner("\x16\x03\x03"), "");
  EXPECT_STREQ(RecogniseBanner(MysqlGreeting(0xffff)), "mysql");
}

}  // namespace
}  // namespace ers

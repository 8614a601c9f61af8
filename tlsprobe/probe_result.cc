#include "ers/record.h"

namespace ers {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kTls:
      return "tls";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kReset:
      return "reset";
    case Outcome::kNotTls:
      return "not_tls";
    case Outcome::kTlsAlert:
      return "tls_alert";
    case Outcome::kError:
      return "error";
    case Outcome::kUnresolved:
      return "unresolved";
    case Outcome::kExcluded:
      return "excluded";
    case Outcome::kStarttlsRefused:
      return "starttls_refused";
    case Outcome::kNoResources:
      return "no_resources";
  }
  return "error";
}

const char* ProbeModeName(ProbeMode m) {
  return m == ProbeMode::kFull ? "full" : "certs";
}

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

}  // namespace ers

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
    case Outcome::kTlsError:
      return "tls_error";
    case Outcome::kUnreachable:
      return "unreachable";
    case Outcome::kNoResources:
      return "no_resources";
  }
  return "error";
}

const char* SniSourceName(SniSource s) {
  switch (s) {
    case SniSource::kNone:
      return "";
    case SniSource::kSan:
      return "san";
    case SniSource::kCn:
      return "cn";
    case SniSource::kSni:
      return "sni";
    case SniSource::kPtr:
      return "ptr";
  }
  return "";
}

const char* ProbeModeName(ProbeMode m) {
  return m == ProbeMode::kFull ? "full" : "certs";
}

}  // namespace ers

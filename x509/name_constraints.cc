#include "x509/name_constraints.h"

#include <openssl/mem.h>
#include <openssl/err.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ers {
namespace {

constexpr size_t kMaxComparisons = 1 << 20;

absl::string_view View(const ASN1_STRING* s) {
  return absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
}

// HostWithin reports whether |host| is within the DNS-style constraint
// |base|: the same name, or a name with labels added on the left. A base
// with a leading dot admits only such subdomains. Case does not count.
bool HostWithin(absl::string_view host, absl::string_view base) {
  if (absl::EndsWith(host, ".")) host.remove_suffix(1);
  if (absl::EndsWith(base, ".")) base.remove_suffix(1);
  if (base.empty()) return true;
  if (base[0] == '.') return host.size() > base.size() && absl::EndsWithIgnoreCase(host, base);
  if (absl::EqualsIgnoreCase(host, base)) return true;
  return host.size() > base.size() && absl::EndsWithIgnoreCase(host, base) &&
         host[host.size() - base.size() - 1] == '.';
}

// A DNS name constraint is a host name, or empty; a leading dot (which
// RFC 5280 does not allow for DNS names), a wildcard or other characters
// make it malformed.
bool ValidDnsConstraint(absl::string_view base) {
  if (absl::StartsWith(base, ".")) return false;
  for (char c : base) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

// A wildcard name "*.example.com" stands for every name one label deeper:
// it is permitted only where all of them are, and excluded where any is.
bool DnsMatches(absl::string_view name, absl::string_view base, bool for_exclusion) {
  if (!absl::StartsWith(name, "*.")) return HostWithin(name, base);
  const absl::string_view parent = name.substr(2);
  const absl::string_view plain = absl::StartsWith(base, ".") ? base.substr(1) : base;
  if (HostWithin(parent, plain)) return true;  // all of them
  if (!for_exclusion || absl::StartsWith(base, ".")) return false;
  // Some of them: the base is itself one label under |parent|.
  const size_t dot = plain.find('.');
  return dot != absl::string_view::npos && dot > 0 &&
         absl::EqualsIgnoreCase(plain.substr(dot + 1), parent);
}

bool EmailMatches(absl::string_view email, absl::string_view base) {
  const size_t at = email.rfind('@');
  if (at == absl::string_view::npos) return false;
  const absl::string_view local = email.substr(0, at);
  const absl::string_view host = email.substr(at + 1);
  const size_t base_at = base.rfind('@');
  if (base_at != absl::string_view::npos) {
    return local == base.substr(0, base_at) &&
           absl::EqualsIgnoreCase(host, base.substr(base_at + 1));
  }
  if (!base.empty() && base[0] == '.') return HostWithin(host, base);
  return absl::EqualsIgnoreCase(host, base);
}

// UriHost is the host of an absolute URI with an authority, or nullopt.
std::optional<absl::string_view> UriHost(absl::string_view uri) {
  const size_t scheme = uri.find("://");
  if (scheme == absl::string_view::npos || scheme == 0) return std::nullopt;
  absl::string_view rest = uri.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) rest = rest.substr(at + 1);
  if (absl::StartsWith(rest, "[")) return std::nullopt;  // an IP literal
  rest = rest.substr(0, rest.find(':'));
  if (rest.empty()) return std::nullopt;
  return rest;
}

bool UriMatches(absl::string_view uri, absl::string_view base) {
  std::optional<absl::string_view> host = UriHost(uri);
  if (!host) return false;
  if (!base.empty() && base[0] == '.') return HostWithin(*host, base);
  return absl::EqualsIgnoreCase(*host, base);
}

bool IpMatches(absl::string_view ip, absl::string_view base) {
  if (base.size() != 2 * ip.size()) return false;
  for (size_t i = 0; i < ip.size(); ++i) {
    const uint8_t mask = static_cast<uint8_t>(base[ip.size() + i]);
    if ((static_cast<uint8_t>(ip[i]) & mask) != (static_cast<uint8_t>(base[i]) & mask)) {
      return false;
    }
  }
  return true;
}

// A mask must be contiguous ones then zeros.
bool ValidIpConstraint(absl::string_view base) {
  if (base.size() != 8 && base.size() != 32) return false;
  bool zero_seen = false;
  for (size_t i = base.size() / 2; i < base.size(); ++i) {
    for (int bit = 7; bit >= 0; --bit) {
      const bool one = (static_cast<uint8_t>(base[i]) >> bit) & 1;
      if (one && zero_seen) return false;
      if (!one) zero_seen = true;
    }
  }
  return true;
}

// Canonical text of one name attribute value: UTF-8, ASCII case folded,
// inner runs of spaces collapsed, outer spaces dropped (RFC 5280 7.1).
std::string Canonical(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0) {
    ERR_clear_error();
    return std::string(View(value));
  }
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  std::string out;
  for (char c : absl::StripAsciiWhitespace(text)) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// DirectoryWithin reports whether |base|'s RDNs begin |name|'s.
bool DirectoryWithin(const X509_NAME* name, const X509_NAME* base) {
  const int base_count = X509_NAME_entry_count(base);
  if (base_count > X509_NAME_entry_count(name)) return false;
  for (int i = 0; i < base_count; ++i) {
    const X509_NAME_ENTRY* a = X509_NAME_get_entry(name, i);
    const X509_NAME_ENTRY* b = X509_NAME_get_entry(base, i);
    if (X509_NAME_ENTRY_set(a) != X509_NAME_ENTRY_set(b) ||
        OBJ_cmp(X509_NAME_ENTRY_get_object(a), X509_NAME_ENTRY_get_object(b)) != 0 ||
        Canonical(X509_NAME_ENTRY_get_data(a)) != Canonical(X509_NAME_ENTRY_get_data(b))) {
      return false;
    }
  }
  // The RDN that holds the base's last attribute must end there too.
  if (base_count > 0 && base_count < X509_NAME_entry_count(name) &&
      X509_NAME_ENTRY_set(X509_NAME_get_entry(name, base_count)) ==
          X509_NAME_ENTRY_set(X509_NAME_get_entry(base, base_count - 1))) {
    return false;
  }
  return true;
}

// One name of a certificate, in a form the constraints judge.
struct Name {
  int type;                       // GEN_*
  std::string text;               // DNS, e-mail, URI; IP bytes
  const X509_NAME* dir = nullptr;  // GEN_DIRNAME
};

const char* FormName(int type) {
  switch (type) {
    case GEN_DNS:
      return "DNS name";
    case GEN_IPADD:
      return "IP address";
    case GEN_EMAIL:
      return "e-mail address";
    case GEN_URI:
      return "URI";
    case GEN_DIRNAME:
      return "directory name";
    default:
      return "name of an unsupported form";
  }
}

std::string Printable(const Name& n) {
  if (n.type == GEN_IPADD) {
    std::string out;
    if (n.text.size() == 4) {
      for (size_t i = 0; i < 4; ++i) absl::StrAppend(&out, i ? "." : "", static_cast<uint8_t>(n.text[i]));
    } else {
      for (size_t i = 0; i < n.text.size(); i += 2) {
        absl::StrAppend(&out, i ? ":" : "",
                        absl::Hex((static_cast<uint8_t>(n.text[i]) << 8) |
                                  static_cast<uint8_t>(n.text[i + 1])));
      }
    }
    return out;
  }
  if (n.type == GEN_DIRNAME) {
    char buf[256];
    X509_NAME_oneline(n.dir, buf, sizeof(buf));
    return buf;
  }
  return n.text;
}

bool Matches(const Name& n, const GENERAL_NAME* base, bool for_exclusion) {
  if (n.type != base->type) return false;
  switch (n.type) {
    case GEN_DNS:
      return DnsMatches(n.text, View(base->d.dNSName), for_exclusion);
    case GEN_IPADD:
      return IpMatches(n.text, View(base->d.iPAddress));
    case GEN_EMAIL:
      return EmailMatches(n.text, View(base->d.rfc822Name));
    case GEN_URI:
      return UriMatches(n.text, View(base->d.uniformResourceIdentifier));
    case GEN_DIRNAME:
      return DirectoryWithin(n.dir, base->d.directoryName);
    default:
      // A form ers cannot compare: treat it as matching an exclusion (the
      // name may be excluded) and never as permitted.
      return for_exclusion;
  }
}

}  // namespace

absl::StatusOr<std::optional<NameConstraintSet>> NameConstraintsOf(X509* ca) {
  int critical = -1;
  bssl::UniquePtr<NAME_CONSTRAINTS> nc(static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(ca, NID_name_constraints, &critical, nullptr)));
  if (!nc) {
    ERR_clear_error();
    if (critical == -1) return std::optional<NameConstraintSet>();
    return absl::InvalidArgumentError("a malformed name constraints extension");
  }
  if (sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) == 0 &&
      sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) == 0) {
    return absl::InvalidArgumentError("a name constraints extension that constrains nothing");
  }
  for (const STACK_OF(GENERAL_SUBTREE)* trees : {nc->permittedSubtrees, nc->excludedSubtrees}) {
    for (size_t i = 0; trees != nullptr && i < sk_GENERAL_SUBTREE_num(trees); ++i) {
      const GENERAL_SUBTREE* tree = sk_GENERAL_SUBTREE_value(trees, i);
      if (tree->maximum != nullptr ||
          (tree->minimum != nullptr && ASN1_INTEGER_get(tree->minimum) != 0)) {
        return absl::InvalidArgumentError("a name constraint with a minimum or maximum");
      }
      const GENERAL_NAME* base = tree->base;
      if (base->type == GEN_IPADD && !ValidIpConstraint(View(base->d.iPAddress))) {
        return absl::InvalidArgumentError("an IP name constraint that is not a network");
      }
      if (base->type == GEN_DNS && !ValidDnsConstraint(View(base->d.dNSName))) {
        return absl::InvalidArgumentError(
            absl::StrCat("a malformed DNS name constraint \"", View(base->d.dNSName), "\""));
      }
    }
  }
  return std::optional<NameConstraintSet>(NameConstraintSet(std::move(nc)));
}

std::string NameConstraintSet::Check(X509* cert) const {
  std::vector<Name> names;
  const X509_NAME* subject = X509_get_subject_name(cert);
  if (X509_NAME_entry_count(subject) > 0) names.push_back({GEN_DIRNAME, "", subject});
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, i)) >= 0;) {
    names.push_back({GEN_EMAIL, std::string(View(X509_NAME_ENTRY_get_data(
                                    X509_NAME_get_entry(subject, i))))});
  }
  bssl::UniquePtr<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  for (size_t i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), i);
    switch (g->type) {
      case GEN_DNS:
        names.push_back({GEN_DNS, std::string(View(g->d.dNSName))});
        break;
      case GEN_IPADD:
        names.push_back({GEN_IPADD, std::string(View(g->d.iPAddress))});
        break;
      case GEN_EMAIL:
        names.push_back({GEN_EMAIL, std::string(View(g->d.rfc822Name))});
        break;
      case GEN_URI:
        names.push_back({GEN_URI, std::string(View(g->d.uniformResourceIdentifier))});
        break;
      case GEN_DIRNAME:
        names.push_back({GEN_DIRNAME, "", g->d.directoryName});
        break;
      default:
        names.push_back({g->type, ""});
    }
  }
  // Bound the work, as browsers do, against certificates made to make it
  // quadratic.
  const size_t subtrees = sk_GENERAL_SUBTREE_num(nc_->permittedSubtrees) +
                          sk_GENERAL_SUBTREE_num(nc_->excludedSubtrees);
  if (names.size() * subtrees > kMaxComparisons) {
    return absl::StrCat(names.size(), " names against ", subtrees,
                        " constraints is more than ers checks");
  }
  for (const Name& n : names) {
    const STACK_OF(GENERAL_SUBTREE)* excluded = nc_->excludedSubtrees;
    for (size_t i = 0; excluded != nullptr && i < sk_GENERAL_SUBTREE_num(excluded); ++i) {
      if (Matches(n, sk_GENERAL_SUBTREE_value(excluded, i)->base, true)) {
        return absl::StrCat(FormName(n.type), " ", Printable(n), " is excluded");
      }
    }
    const STACK_OF(GENERAL_SUBTREE)* permitted = nc_->permittedSubtrees;
    bool constrained = false, allowed = false;
    for (size_t i = 0; permitted != nullptr && i < sk_GENERAL_SUBTREE_num(permitted); ++i) {
      const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(permitted, i)->base;
      if (base->type != n.type) continue;
      constrained = true;
      if (Matches(n, base, false)) {
        allowed = true;
        break;
      }
    }
    if (constrained && !allowed) {
      return absl::StrCat(FormName(n.type), " ", Printable(n), " is not permitted");
    }
  }
  return "";
}

}  // namespace ers

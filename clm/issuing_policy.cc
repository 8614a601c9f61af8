#include "clm/issuing_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/config_lines.h"
#include "base/host_name.h"
#include "base/list_syntax.h"
#include "enroll/key.h"

namespace ers {
namespace {

constexpr int kMaxDays = 825;

// DnsAllowed: |name| (maybe "*.x") is a suffix or below one.
bool DnsAllowed(const ClientIssuingPolicy& policy, absl::string_view name) {
  absl::string_view base = name;
  if (absl::ConsumePrefix(&base, "*.") && !policy.wildcards) return false;
  return std::any_of(policy.dns_suffixes.begin(), policy.dns_suffixes.end(),
                     [&](const std::string& suffix) {
                       return base == suffix || absl::EndsWith(base, absl::StrCat(".", suffix));
                     });
}

absl::Status ParseSetting(absl::string_view key, absl::string_view value,
                          ClientIssuingPolicy* policy) {
  if (key == "dns") {
    absl::StatusOr<std::vector<absl::string_view>> list = SplitList(value, "dns list");
    if (!list.ok()) return list.status();
    for (absl::string_view entry : *list) {
      std::string suffix = absl::AsciiStrToLower(absl::StripPrefix(entry, "."));
      if (absl::Status s = ValidateHostName(suffix); !s.ok()) return s;
      policy->dns_suffixes.push_back(std::move(suffix));
    }
  } else if (key == "ip") {
    absl::StatusOr<std::vector<IpRange>> ranges = ParseIpRanges(value);
    if (!ranges.ok()) return ranges.status();
    policy->ip_ranges.insert(policy->ip_ranges.end(), ranges->begin(), ranges->end());
  } else if (key == "keys") {
    absl::StatusOr<std::vector<absl::string_view>> list = SplitList(value, "key list");
    if (!list.ok()) return list.status();
    policy->key_types.clear();
    for (absl::string_view entry : *list) {
      if (absl::Status s = ParseEnrollKeyType(entry).status(); !s.ok()) return s;
      policy->key_types.insert(std::string(entry));
    }
  } else if (key == "days") {
    if (!absl::SimpleAtoi(value, &policy->max_days) || policy->max_days < 1 ||
        policy->max_days > kMaxDays) {
      return absl::InvalidArgumentError(absl::StrCat("days is 1 to ", kMaxDays));
    }
  } else if (key == "approval") {
    if (value != "auto" && value != "hold") {
      return absl::InvalidArgumentError("approval is auto or hold");
    }
    policy->hold = value == "hold";
  } else if (key == "wildcards") {
    if (value != "yes" && value != "no") return absl::InvalidArgumentError("wildcards is yes or no");
    policy->wildcards = value == "yes";
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown setting \"", key, "\" (dns, wildcards, ip, keys, days, approval)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IssuingPolicy> IssuingPolicy::Parse(absl::string_view text,
                                                   absl::string_view source) {
  IssuingPolicy out;
  for (const ConfigLine& line : ConfigLines(text)) {
    std::vector<absl::string_view> words = absl::StrSplit(line.text, ' ', absl::SkipEmpty());
    const std::string client(words[0]);
    if (client != "*" && !absl::StartsWith(client, "token:") && !absl::StartsWith(client, "cert:")) {
      return ConfigLineError(source, line,
                             "a line starts with the client: token:NAME, cert:CN or *");
    }
    if (out.clients_.count(client) > 0) {
      return ConfigLineError(source, line, absl::StrCat(client, " has a line already"));
    }
    ClientIssuingPolicy policy;
    for (size_t i = 1; i < words.size(); ++i) {
      const size_t eq = words[i].find('=');
      if (eq == absl::string_view::npos) {
        return ConfigLineError(source, line, absl::StrCat("\"", words[i], "\" is not key=value"));
      }
      if (absl::Status s = ParseSetting(words[i].substr(0, eq), words[i].substr(eq + 1), &policy);
          !s.ok()) {
        return ConfigLineError(source, line, s.message());
      }
    }
    out.clients_.emplace(client, std::move(policy));
  }
  return out;
}

const ClientIssuingPolicy* IssuingPolicy::For(const std::string& client) const {
  auto it = clients_.find(client);
  if (it == clients_.end()) it = clients_.find("*");
  return it == clients_.end() ? nullptr : &it->second;
}

absl::Status JudgeRequest(const ClientIssuingPolicy& policy, const CsrInfo& csr, int days) {
  if (absl::StartsWith(csr.key, "rsa-")) {
    int bits = 0;
    if (absl::SimpleAtoi(csr.key.substr(4), &bits) && bits < 2048) {
      return absl::InvalidArgumentError(
          absl::StrCat("weak key: ", csr.key, " (RSA keys have at least 2048 bits)"));
    }
  }
  if (csr.key == "ec-p224" || csr.key == "ec-unknown" || csr.key == "unknown") {
    return absl::InvalidArgumentError(absl::StrCat("weak or unsupported key: ", csr.key));
  }
  if (policy.key_types.count(csr.key) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("key type ", csr.key, " is not allowed (allowed: ",
                     absl::StrJoin(policy.key_types, ", "), ")"));
  }
  if (!csr.other_extensions.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the CSR asks for extensions the policy does not allow: ",
        absl::StrJoin(csr.other_extensions, ", "),
        " (only subjectAltName; the CLM sets key usage, extended key usage and basic "
        "constraints itself)"));
  }
  if (!csr.names.others.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the CSR asks for names that are not DNS names or addresses: ",
        absl::StrJoin(csr.names.others, ", ")));
  }
  if (csr.names.dns.empty() && csr.names.ips.empty()) {
    return absl::InvalidArgumentError("the CSR names no DNS name or address (subjectAltName)");
  }
  const std::vector<std::string> sans = NameStrings(csr.names);
  if (!csr.names.common_name.empty() &&
      std::find(sans.begin(), sans.end(), csr.names.common_name) == sans.end()) {
    absl::StatusOr<IpAddress> cn_ip = ParseIpAddress(csr.names.common_name);
    if (!cn_ip.ok() || std::find(csr.names.ips.begin(), csr.names.ips.end(), *cn_ip) ==
                           csr.names.ips.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the common name ", csr.names.common_name, " is not among the subjectAltNames"));
    }
  }
  std::vector<std::string> outside;
  for (const std::string& dns : csr.names.dns) {
    if (!DnsAllowed(policy, dns)) outside.push_back(dns);
  }
  for (const IpAddress& ip : csr.names.ips) {
    if (!std::any_of(policy.ip_ranges.begin(), policy.ip_ranges.end(),
                     [&](const IpRange& r) { return r.Contains(ip); })) {
      outside.push_back(ip.ToString());
    }
  }
  if (!outside.empty()) {
    std::vector<std::string> allowed = policy.dns_suffixes;
    for (const IpRange& r : policy.ip_ranges) allowed.push_back(r.ToString());
    return absl::PermissionDeniedError(absl::StrCat(
        "names outside this client's policy: ", absl::StrJoin(outside, ", "), " (allowed: ",
        allowed.empty() ? "none" : absl::StrJoin(allowed, ", "),
        policy.wildcards ? "" : "; no wildcards", ")"));
  }
  if (days < 0 || days > policy.max_days) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a validity of ", days, " days is more than this client's policy allows (", policy.max_days,
        ")"));
  }
  return absl::OkStatus();
}

}  // namespace ers

#include "x509/findings.h"

#include <cmath>

#include "base/config_lines.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ers {
namespace {

constexpr int64_t kDay = 86400;

Severity ExpirySeverity(int threshold) {
  if (threshold <= 7) return Severity::kCritical;
  if (threshold <= 14) return Severity::kHigh;
  if (threshold <= 30) return Severity::kMedium;
  return Severity::kLow;
}

void Add(std::vector<Finding>* out, const char* id, Severity severity,
         std::string message, int cert) {
  Finding f;
  f.id = id;
  f.severity = severity;
  f.message = std::move(message);
  f.cert = cert;
  out->push_back(std::move(f));
}

// CheckKeyAndSignature adds weak_key and weak_signature for one path
// certificate. A root's self-signature is not checked: nothing relies on it.
void CheckKeyAndSignature(const Certificate& c, int position,
                          const Policy& policy, std::vector<Finding>* out) {
  if (c.key_type == KeyType::kRsa && c.key_bits < policy.min_rsa_bits) {
    Add(out, "weak_key", Severity::kHigh,
        absl::StrCat(DisplayName(c), ": RSA-", c.key_bits, " key (policy: at least ",
                     policy.min_rsa_bits, ")"),
        position);
  } else if (c.key_type == KeyType::kEc && c.key_bits < policy.min_ec_bits) {
    Add(out, "weak_key", Severity::kHigh,
        absl::StrCat(DisplayName(c), ": EC key of ", c.key_bits,
                     " bits (policy: at least ", policy.min_ec_bits, ")"),
        position);
  } else if (c.key_type == KeyType::kDsa) {
    Add(out, "weak_key", Severity::kHigh,
        absl::StrCat(DisplayName(c), ": DSA key"), position);
  }
  if (!c.key_supported) {
    Add(out, "unsupported_key", Severity::kHigh,
        absl::StrCat(DisplayName(c), ": ", KeyTypeName(c.key_type), " key",
                     c.key_curve.empty() ? "" : absl::StrCat(" (", c.key_curve, ")"),
                     " that BoringSSL cannot use: clients built on it, Chrome among them, "
                     "refuse the certificate"),
        position);
  }
  if (!c.self_signed || position == 0) {
    if (c.signature_digest == Digest::kMd5) {
      Add(out, "weak_signature", Severity::kCritical,
          absl::StrCat(DisplayName(c), ": signed with MD5 (", c.signature_algorithm, ")"),
          position);
    } else if (c.signature_digest == Digest::kSha1) {
      Add(out, "weak_signature", Severity::kHigh,
          absl::StrCat(DisplayName(c), ": signed with SHA-1 (",
                       c.signature_algorithm, ")"),
          position);
    }
  }
}

bool MatchesHost(const NormalizedChain& chain, const std::string& host) {
  X509* leaf = chain.x509[chain.path[0]].get();
  return X509_check_host(leaf, host.data(), host.size(), 0, nullptr) == 1;
}

}  // namespace

int64_t DaysLeft(int64_t not_after_unix, int64_t now_unix) {
  const int64_t d = not_after_unix - now_unix;
  return d >= 0 ? d / kDay : -((-d + kDay - 1) / kDay);
}

std::optional<Severity> ParseSeverity(absl::string_view name) {
  for (Severity s : {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh,
                     Severity::kCritical}) {
    if (name == SeverityName(s)) return s;
  }
  return std::nullopt;
}

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

absl::StatusOr<Policy> ParsePolicy(absl::string_view text,
                                   absl::string_view source) {
  Policy policy;
  for (const ConfigLine& config_line : ConfigLines(text)) {
    const absl::string_view line = config_line.text;
    auto error = [&](absl::string_view why) {
      return ConfigLineError(source, config_line, why);
    };
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) return error("expected key = value");
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    auto number = [&](int* out, int lo, int hi) -> absl::Status {
      if (!absl::SimpleAtoi(value, out) || *out < lo || *out > hi) {
        return error(absl::StrCat(key, " must be a number from ", lo, " to ", hi));
      }
      return absl::OkStatus();
    };
    absl::Status s;
    if (key == "expiry_thresholds_days") {
      policy.expiry_thresholds_days.clear();
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        int days = 0;
        item = absl::StripAsciiWhitespace(item);
        if (!absl::SimpleAtoi(item, &days) || days < 1 || days > 3650) {
          return error(absl::StrCat("threshold \"", item,
                                    "\" must be a number of days from 1 to 3650"));
        }
        policy.expiry_thresholds_days.push_back(days);
      }
    } else if (key == "expiry_lifetime_fraction") {
      double f = 0;
      if (!absl::SimpleAtod(value, &f) || !(f >= 0 && f <= 1)) {
        return error("expiry_lifetime_fraction must be a number from 0 to 1 (0: off)");
      }
      policy.expiry_lifetime_fraction = f;
    } else if (key == "min_rsa_bits") {
      s = number(&policy.min_rsa_bits, 512, 16384);
    } else if (key == "min_ec_bits") {
      s = number(&policy.min_ec_bits, 160, 521);
    } else if (key == "max_public_validity_days") {
      s = number(&policy.max_public_validity_days, 1, 10000);
    } else {
      return error(absl::StrCat("unknown key \"", key, "\""));
    }
    if (!s.ok()) return s;
  }
  return policy;
}

ChainReport AnalyzeChain(const std::vector<std::string>& served,
                         const EndpointFacts& facts, const TrustStore& store,
                         const Policy& policy, int64_t now_unix,
                         CertificateCache* cache) {
  ChainReport report;
  report.chain = NormalizeChain(served, cache);
  std::vector<Finding>& out = report.findings;
  const NormalizedChain& chain = report.chain;
  for (const std::string& e : chain.parse_errors) {
    Add(&out, "unparsable_certificate", Severity::kHigh, e, -1);
  }
  if (!chain.has_leaf()) return report;
  ValidationOptions options;
  options.peer_name = facts.host;
  options.now_unix = now_unix;
  options.fetched = facts.fetched;
  options.ocsp_response = facts.ocsp_response;
  options.ocsp_from_responder = facts.ocsp_from_responder;
  options.crls = facts.crls;
  report.validation = ValidateChain(chain, store, options);
  const Validation& v = report.validation;
  const Certificate& leaf = chain.leaf();

  // Validity of the leaf.
  if (now_unix > leaf.not_after_unix) {
    Add(&out, "expired", Severity::kCritical,
        absl::StrCat(DisplayName(leaf), ": expired ",
                     (now_unix - leaf.not_after_unix) / kDay, " days ago"),
        0);
  } else if (now_unix < leaf.not_before_unix) {
    Add(&out, "not_yet_valid", Severity::kHigh,
        absl::StrCat(DisplayName(leaf), ": valid only in ",
                     (leaf.not_before_unix - now_unix + kDay - 1) / kDay, " days"),
        0);
  } else {
    const int64_t days_left = DaysLeft(leaf.not_after_unix, now_unix);
    int threshold = 0;  // the smallest threshold met
    for (int t : policy.expiry_thresholds_days) {
      if (days_left < t && (threshold == 0 || t < threshold)) threshold = t;
    }
    // The lifetime rule: under a fraction of the validity period left.
    const double lifetime_s =
        policy.expiry_lifetime_fraction *
        static_cast<double>(std::max<int64_t>(0, leaf.not_after_unix - leaf.not_before_unix));
    const bool lifetime_rule = policy.expiry_lifetime_fraction > 0 && lifetime_s > 0;
    const bool lifetime_met =
        lifetime_rule && static_cast<double>(leaf.not_after_unix - now_unix) < lifetime_s;
    // A threshold longer than the lifetime share is not applied: a fresh
    // short-lived certificate is healthy.
    const bool threshold_applies =
        threshold > 0 && (!lifetime_rule || threshold * static_cast<double>(kDay) <= lifetime_s);
    if (threshold_applies || lifetime_met) {
      Finding f;
      f.id = "expiring_soon";
      f.severity = threshold > 0 ? ExpirySeverity(threshold) : Severity::kLow;
      const int64_t lifetime_days = static_cast<int64_t>(std::ceil(lifetime_s / kDay));
      f.threshold_days = threshold > 0 ? threshold : static_cast<int>(lifetime_days);
      f.message =
          threshold_applies
              ? absl::StrCat(DisplayName(leaf), ": expires in ", days_left, " days (threshold ",
                             threshold, ")")
              : absl::StrCat(DisplayName(leaf), ": expires in ", days_left,
                             " days, under a share of its ",
                             (leaf.not_after_unix - leaf.not_before_unix) / kDay,
                             "-day validity (", lifetime_days, " days)");
      f.days_left = days_left;
      out.push_back(std::move(f));
    }
  }
  for (size_t i = 1; i < chain.path.size(); ++i) {
    const Certificate& c = chain.certs[chain.path[i]];
    if (now_unix > c.not_after_unix) {
      Add(&out, "intermediate_expired", Severity::kHigh,
          absl::StrCat(DisplayName(c), ": expired ",
                       (now_unix - c.not_after_unix) / kDay, " days ago"),
          static_cast<int>(i));
    }
  }

  // Trust.
  if (leaf.self_signed) {
    Add(&out, "self_signed_leaf", Severity::kMedium,
        absl::StrCat(DisplayName(leaf), ": self-signed"), 0);
  }
  if (!v.trusted) {
    Add(&out, "untrusted", Severity::kHigh,
        absl::StrCat("not trusted: ", absl::StrJoin(v.details, "; ")), -1);
  }
  // incomplete_chain only when the missing intermediate was identified:
  // found in the intermediate cache or fetched through AIA. An issuer that
  // nothing holds may as well be a root this machine does not trust.
  if (v.completed_via != "served") {
    Add(&out, "incomplete_chain", Severity::kMedium,
        v.completed_via == "aia"
            ? "the server does not send every intermediate; the chain was completed "
              "with the issuer its AIA caIssuers URL names"
            : "the server does not send every intermediate; the chain was completed "
              "from the intermediate cache",
        -1);
  }
  if (v.ocsp.has_value()) {
    if (!v.ocsp->valid) {
      Add(&out, "ocsp_staple_invalid", Severity::kMedium,
          absl::StrCat(v.ocsp_from_responder ? "the OCSP responder's answer"
                                             : "the stapled OCSP response",
                       " cannot be relied on: ", v.ocsp->problem),
          0);
    } else if (v.ocsp->status == OcspStatus::kRevoked) {
      Add(&out, "revoked", Severity::kCritical,
          absl::StrCat(DisplayName(leaf), ": revoked, says ",
                       v.ocsp_from_responder ? "its OCSP responder" : "its stapled OCSP response",
                       " (at ",
                       v.ocsp->revoked_at, " Unix time",
                       v.ocsp->revocation_reason >= 0
                           ? absl::StrCat(", reason ", v.ocsp->revocation_reason)
                           : std::string(),
                       ")"),
          0);
    }
  }
  // Revocation by CRL (validation lists it with its detail).
  for (size_t i = 0; i < v.reasons.size(); ++i) {
    if (v.reasons[i] == "revoked" && !(v.ocsp.has_value() && v.ocsp->valid &&
                                       v.ocsp->status == OcspStatus::kRevoked)) {
      Add(&out, "revoked", Severity::kCritical, v.details[i], -1);
    } else if (v.reasons[i] == "revocation_unknown") {
      Add(&out, "crl_invalid", Severity::kMedium, v.details[i], -1);
    }
  }
  if (chain.misordered) {
    Add(&out, "misordered_chain", Severity::kLow,
        "the server sends its chain out of order", -1);
  }
  if (!chain.duplicates.empty()) {
    Add(&out, "duplicate_certificates", Severity::kInfo,
        absl::StrCat("the server sends ", chain.duplicates.size(),
                     " certificate(s) twice"),
        -1);
  }
  if (!chain.unrelated.empty()) {
    Add(&out, "unrelated_certificates", Severity::kLow,
        absl::StrCat("the server sends ", chain.unrelated.size(),
                     " certificate(s) not on the leaf's path"),
        -1);
  }
  if (chain.root_included) {
    Add(&out, "root_included", Severity::kInfo,
        "the server sends the root certificate", -1);
  }

  // Keys and signatures along the path.
  for (size_t i = 0; i < chain.path.size(); ++i) {
    CheckKeyAndSignature(chain.certs[chain.path[i]], static_cast<int>(i),
                         policy, &out);
  }

  // The leaf itself.
  const int64_t validity_days = (leaf.not_after_unix - leaf.not_before_unix) / kDay;
  if (v.trusted && v.anchored_public &&
      validity_days > policy.max_public_validity_days) {
    Add(&out, "long_validity", Severity::kMedium,
        absl::StrCat(DisplayName(leaf), ": valid for ", validity_days,
                     " days (publicly trusted limit ",
                     policy.max_public_validity_days, ")"),
        0);
  }
  if (!facts.host.empty() && !MatchesHost(chain, facts.host)) {
    Add(&out, "hostname_mismatch", Severity::kHigh,
        absl::StrCat(DisplayName(leaf), " is not valid for ", facts.host), 0);
  }
  if (leaf.dns_names.empty() && leaf.ip_addresses.empty()) {
    Add(&out, "missing_san", Severity::kMedium,
        absl::StrCat(DisplayName(leaf), ": no subjectAltName DNS or IP entry"), 0);
  }
  // A key usage extension that allows neither a signature nor (RSA) key
  // transport: TLS clients refuse the leaf (BoringSSL before it even shows
  // the chain; ers reads it from the records).
  const auto has_usage = [&](const char* usage) {
    return std::find(leaf.key_usage.begin(), leaf.key_usage.end(), usage) != leaf.key_usage.end();
  };
  if (!leaf.key_usage.empty() && !has_usage("digitalSignature") &&
      (leaf.key_type != KeyType::kRsa || !has_usage("keyEncipherment"))) {
    Add(&out, "leaf_key_usage", Severity::kHigh,
        absl::StrCat(DisplayName(leaf), ": its key usage (", absl::StrJoin(leaf.key_usage, ", "),
                     ") does not allow a TLS server's signature; clients refuse it"),
        0);
  }
  if (leaf.is_ca) {
    Add(&out, "ca_leaf", Severity::kMedium,
        absl::StrCat(DisplayName(leaf), ": a CA certificate used as a server's leaf"),
        0);
  }
  if (facts.tls_version != 0 && facts.tls_version < TLS1_2_VERSION) {
    Add(&out, "deprecated_tls", Severity::kMedium,
        facts.tls_version == TLS1_1_VERSION ? "TLS 1.1 negotiated"
                                            : "TLS 1.0 negotiated",
        -1);
  }
  return report;
}

}  // namespace ers

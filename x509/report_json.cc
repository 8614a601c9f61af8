#include "x509/report_json.h"

#include "absl/time/time.h"

namespace ers {
namespace {

std::string Rfc3339(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

}  // namespace

nlohmann::ordered_json CertificateToJson(const Certificate& c) {
  nlohmann::ordered_json j;
  j["subject"] = c.subject;
  j["subject_cn"] = c.subject_cn;
  j["subject_org"] = c.subject_org;
  j["issuer"] = c.issuer;
  j["issuer_cn"] = c.issuer_cn;
  j["issuer_org"] = c.issuer_org;
  j["serial"] = c.serial_hex;
  j["not_before"] = Rfc3339(c.not_before_unix);
  j["not_after"] = Rfc3339(c.not_after_unix);
  j["key"] = {{"type", KeyTypeName(c.key_type)},
              {"bits", c.key_bits},
              {"curve", c.key_curve}};
  j["signature_algorithm"] = c.signature_algorithm;
  j["signature_digest"] = DigestName(c.signature_digest);
  j["san"] = {{"dns", c.dns_names},
              {"ip", c.ip_addresses},
              {"email", c.emails},
              {"uri", c.uris}};
  j["is_ca"] = c.is_ca;
  j["path_len"] = c.path_len;
  j["key_usage"] = c.key_usage;
  j["extended_key_usage"] = c.extended_key_usage;
  j["ocsp_urls"] = c.ocsp_urls;
  j["ca_issuer_urls"] = c.ca_issuer_urls;
  j["crl_urls"] = c.crl_urls;
  j["policy_oids"] = c.policy_oids;
  j["embedded_scts"] = c.embedded_sct_count;
  j["must_staple"] = c.must_staple;
  j["self_signed"] = c.self_signed;
  j["sha256"] = c.sha256_hex;
  j["sha1"] = c.sha1_hex;
  j["spki_sha256"] = c.spki_sha256_hex;
  return j;
}

nlohmann::ordered_json ReportToJson(const ChainReport& report) {
  const NormalizedChain& chain = report.chain;
  nlohmann::ordered_json j;
  nlohmann::ordered_json path = nlohmann::ordered_json::array();
  for (int index : chain.path) {
    nlohmann::ordered_json c = CertificateToJson(chain.certs[index]);
    c["served_position"] = chain.served_index[index];
    path.push_back(std::move(c));
  }
  j["path"] = std::move(path);
  nlohmann::ordered_json unrelated = nlohmann::ordered_json::array();
  for (int index : chain.unrelated) {
    unrelated.push_back({{"served_position", chain.served_index[index]},
                         {"subject", chain.certs[index].subject},
                         {"sha256", chain.certs[index].sha256_hex}});
  }
  j["served"] = {{"misordered", chain.misordered},
                 {"duplicate_positions", chain.duplicates},
                 {"unrelated", std::move(unrelated)},
                 {"root_included", chain.root_included},
                 {"parse_errors", chain.parse_errors}};
  const Validation& v = report.validation;
  j["validation"] = {{"trusted", v.trusted},
                     {"reasons", v.reasons},
                     {"details", v.details},
                     {"completed_from_cache", v.completed_from_cache},
                     {"completed_via", v.completed_via},
                     {"issuer_missing", v.issuer_missing},
                     {"anchored_public", v.anchored_public},
                     {"verified_path_sha256", v.verified_path}};
  if (v.ocsp.has_value()) {
    nlohmann::ordered_json ocsp = {{"source", v.ocsp_from_responder ? "responder" : "staple"},
                                   {"valid", v.ocsp->valid}};
    if (v.ocsp->valid) {
      ocsp["status"] = OcspStatusName(v.ocsp->status);
      ocsp["this_update"] = v.ocsp->this_update;
      if (v.ocsp->next_update != 0) ocsp["next_update"] = v.ocsp->next_update;
      if (v.ocsp->status == OcspStatus::kRevoked) {
        ocsp["revoked_at"] = v.ocsp->revoked_at;
        if (v.ocsp->revocation_reason >= 0) ocsp["reason"] = v.ocsp->revocation_reason;
      }
    } else {
      ocsp["problem"] = v.ocsp->problem;
    }
    j["validation"]["ocsp"] = std::move(ocsp);
  }
  if (!report.aia.empty()) {
    nlohmann::ordered_json aia = nlohmann::ordered_json::array();
    for (const ChainReport::AiaFetch& f : report.aia) {
      aia.push_back({{"url", f.url}, {"outcome", f.outcome}});
    }
    j["validation"]["aia"] = std::move(aia);
  }
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const Finding& f : report.findings) {
    nlohmann::ordered_json fj = {{"id", f.id},
                                 {"severity", SeverityName(f.severity)},
                                 {"message", f.message},
                                 {"cert", f.cert}};
    if (f.id == "expiring_soon") {
      fj["days_left"] = f.days_left;
      fj["threshold_days"] = f.threshold_days;
    }
    findings.push_back(std::move(fj));
  }
  j["findings"] = std::move(findings);
  return j;
}

}  // namespace ers

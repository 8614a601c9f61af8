#include "clm/certificate_requests.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/json_fields.h"
#include "enroll/csr.h"

namespace ers {
namespace {

std::pair<unsigned, nlohmann::json> Refuse(unsigned status, std::string message) {
  return {status, {{"error", std::move(message)}}};
}

bool ValidRequestId(const std::string& id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                  c == '.';
         });
}

unsigned StatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kInvalidArgument: return 422;
    case absl::StatusCode::kAlreadyExists: return 409;
    default: return 503;
  }
}

// Issue signs the CSR of pending |record| and records the decision.
absl::StatusOr<nlohmann::json> Issue(ClmStore* store, const Issuer& issuer,
                                     const nlohmann::json& record, const std::string& csr_pem,
                                     const std::string& by) {
  absl::StatusOr<CsrInfo> csr = ParseCsr(csr_pem);
  if (!csr.ok()) return csr.status();
  absl::StatusOr<IssuedCertificate> issued =
      issuer.Issue(*csr, static_cast<int>(record["days"].get<int64_t>()));
  if (!issued.ok()) return issued.status();
  const int64_t id = record["id"];
  absl::Status s = store->DecideCertRequest(id, "issued", "", issued->certificate_pem,
                                            issued->chain_pem, issued->serial_hex,
                                            issued->not_after_unix, by);
  if (!s.ok()) return s;
  absl::StatusOr<nlohmann::json> now = store->CertRequestById(id);
  if (!now.ok()) return now.status();
  return PublicRecord(*now);
}

}  // namespace

nlohmann::json PublicRecord(nlohmann::json record) {
  record.erase("csr");
  record.erase("http_status");
  return record;
}

std::pair<unsigned, nlohmann::json> SubmitCertificateRequest(ClmStore* store,
                                                             const Enrollment& enrollment,
                                                             const std::string& client,
                                                             const std::string& body) {
  if (enrollment.issuer == nullptr || enrollment.policy == nullptr) {
    return Refuse(501, "this CLM does not issue certificates (start ers-clm with --issuing-ca "
                       "and --issuing-policy)");
  }
  const nlohmann::json request = nlohmann::json::parse(body, nullptr, false);
  if (!request.is_object()) return Refuse(400, "body is not a JSON object");
  const std::string request_id = JsonString(request, "request_id");
  const std::string csr_pem = JsonString(request, "csr");
  int64_t days = 0;
  if (!ValidRequestId(request_id)) {
    return Refuse(400, "request_id (1 to 128 letters, digits, '-', '_', '.') is required");
  }
  if (csr_pem.empty()) return Refuse(400, "csr (a PEM certificate request) is required");
  if (request.contains("days") &&
      !JsonIntegerField(request, "days", 0, 100000, 0, &days)) {
    return Refuse(400, "days is a whole number of days");
  }
  const ClientIssuingPolicy* policy = enrollment.policy->For(client);
  absl::StatusOr<CsrInfo> csr = ParseCsr(csr_pem);
  // What is refused is recorded too, under the CSR's hash when it parses.
  std::string status = "pending", reason;
  unsigned http = 202;
  nlohmann::json names = nlohmann::json::array();
  std::string key, csr_sha256;
  absl::Status judged;
  if (!csr.ok()) {
    judged = csr.status();
  } else {
    for (const std::string& n : NameStrings(csr->names)) names.push_back(n);
    key = csr->key;
    csr_sha256 = csr->der_sha256;
    if (days == 0 && policy != nullptr) days = policy->max_days;
    judged = policy == nullptr
                 ? absl::PermissionDeniedError(absl::StrCat(
                       "client ", client, " may not request certificates (the issuing policy "
                       "has no line for it)"))
                 : JudgeRequest(*policy, *csr, static_cast<int>(days));
  }
  if (!judged.ok()) {
    status = "rejected";
    reason = std::string(judged.message());
    http = StatusFor(judged);
  }
  if (csr_sha256.empty()) csr_sha256 = "unparsed";
  absl::StatusOr<nlohmann::json> record =
      store->AddCertRequest(client, request_id, csr_pem, csr_sha256, names, key,
                            static_cast<int>(days), status, reason, static_cast<int>(http));
  if (!record.ok()) return Refuse(StatusFor(record.status()), std::string(record.status().message()));
  const bool duplicate = (*record)["duplicate"].get<bool>();
  if ((*record)["status"] == "rejected") {
    nlohmann::json reply = PublicRecord(*record);
    reply["error"] = (*record)["reason"];
    return {static_cast<unsigned>((*record)["http_status"].get<int64_t>()), reply};
  }
  // A pending request of a client whose policy issues at once: issue now
  // (on a retry too, should the CLM have stopped between recording and
  // signing).
  if ((*record)["status"] == "pending" && policy != nullptr && !policy->hold) {
    absl::StatusOr<nlohmann::json> full = store->CertRequestById((*record)["id"]);
    if (!full.ok()) return Refuse(503, "database");
    absl::StatusOr<nlohmann::json> issued =
        Issue(store, *enrollment.issuer, *full, (*full)["csr"], "policy");
    if (!issued.ok()) return Refuse(503, std::string(issued.status().message()));
    (*issued)["duplicate"] = duplicate;
    return {duplicate ? 200u : 201u, *issued};
  }
  nlohmann::json reply = PublicRecord(*record);
  if (duplicate) return {200, reply};
  return {(*record)["status"] == "issued" ? 201u : 202u, reply};
}

absl::StatusOr<nlohmann::json> ApproveCertificateRequest(ClmStore* store, const Issuer& issuer,
                                                         int64_t id, const std::string& by) {
  absl::StatusOr<nlohmann::json> record = store->CertRequestById(id);
  if (!record.ok()) return record.status();
  if (record->is_null()) return absl::NotFoundError(absl::StrCat("no certificate request ", id));
  if ((*record)["status"] != "pending") {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate request ", id, " is ", (*record)["status"].get<std::string>(),
        ", not pending"));
  }
  return Issue(store, issuer, *record, (*record)["csr"], by);
}

absl::StatusOr<nlohmann::json> RejectCertificateRequest(ClmStore* store, int64_t id,
                                                        const std::string& reason,
                                                        const std::string& by) {
  absl::StatusOr<nlohmann::json> record = store->CertRequestById(id);
  if (!record.ok()) return record.status();
  if (record->is_null()) return absl::NotFoundError(absl::StrCat("no certificate request ", id));
  absl::Status s = store->DecideCertRequest(id, "rejected", reason, "", "", "", 0, by);
  if (!s.ok()) return s;
  absl::StatusOr<nlohmann::json> now = store->CertRequestById(id);
  if (!now.ok()) return now.status();
  return PublicRecord(*now);
}

}  // namespace ers

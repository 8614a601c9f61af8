// certificate_requests.h: the reference CLM's enrollment. A client submits
// a CSR under a request id of its own choosing; the CLM judges it against
// the client's issuing policy and issues at once, holds it for an
// administrator (ers-clm --approve), or refuses it with the reason. Every
// request and decision is recorded (clm_store.h); a retried submission
// gets the first one's answer.
#ifndef ERS_CLM_CERTIFICATE_REQUESTS_H_
#define ERS_CLM_CERTIFICATE_REQUESTS_H_

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "clm/clm_store.h"
#include "clm/issuer.h"
#include "clm/issuing_policy.h"

namespace ers {

// Enrollment is what issuing needs; a CLM without an issuer issues nothing.
struct Enrollment {
  const Issuer* issuer = nullptr;
  const IssuingPolicy* policy = nullptr;
};

// SubmitCertificateRequest handles a POST /api/v1/certificate-requests
// body ({"request_id", "csr", "days"}) from |client| and returns the HTTP
// status and reply: 201 issued, 202 held, 200 the earlier answer to the
// same request, 4xx with "error" (the refusal, word for word) and the
// record where one was made.
std::pair<unsigned, nlohmann::json> SubmitCertificateRequest(ClmStore* store,
                                                             const Enrollment& enrollment,
                                                             const std::string& client,
                                                             const std::string& body);

// PublicRecord is a stored record as a client sees it: without the CSR.
nlohmann::json PublicRecord(nlohmann::json record);

// ApproveCertificateRequest issues held request |id| (decided_by |by|);
// RejectCertificateRequest refuses it with |reason|. Both return the
// record; kFailedPrecondition if it is not pending, kNotFound if no such.
[[nodiscard]] absl::StatusOr<nlohmann::json> ApproveCertificateRequest(ClmStore* store,
                                                                       const Issuer& issuer,
                                                                       int64_t id,
                                                                       const std::string& by);
[[nodiscard]] absl::StatusOr<nlohmann::json> RejectCertificateRequest(ClmStore* store, int64_t id,
                                                                      const std::string& reason,
                                                                      const std::string& by);

}  // namespace ers

#endif  // ERS_CLM_CERTIFICATE_REQUESTS_H_

// clm_router.h: what the reference CLM answers to an authenticated request,
// without sockets: the server (clm_server.cc) hands each request here once
// its headers are admitted and its body read, and the fuzz target drives it
// directly.
#ifndef ERS_CLM_CLM_ROUTER_H_
#define ERS_CLM_CLM_ROUTER_H_

#include <string>

#include <nlohmann/json.hpp>

#include "clm/certificate_requests.h"
#include "clm/clm_store.h"

namespace ers {

// kMaxJsonDepth bounds how deep a batch's arrays and objects may nest; a
// deeper body is refused before it is parsed (real batches nest four).
inline constexpr int kMaxJsonDepth = 32;

struct ClmRequest {
  std::string method;
  std::string url;
  std::string client;    // authenticated name; never empty here
  std::string identity;  // how it authenticated, for the client list
  bool admin = false;    // reads every client's data, not only its own
  std::string body;
  std::string idempotency_key;  // the Idempotency-Key header, or ""
};

struct ClmReply {
  unsigned status = 500;
  nlohmann::json body;
  std::string html;  // when set, the reply is this page instead of |body|
};

// Route answers |request| from |store|: POST /api/v1/batches stores a
// batch, GET /api/v1/clients and /api/v1/inventory read (the client's own
// entry and sightings; everyone's for an admin), POST
// /api/v1/certificate-requests submits a CSR to |enrollment|, GET
// /api/v1/certificate-requests lists requests (own; all: admin) and GET
// /api/v1/certificate-requests/ID reads one of the client's own, GET / is
// the administrators' page (403 for other clients). Any input gets a
// status and a JSON body (400, 404, 409, 422, 501, 503 with "error"),
// never an exception.
ClmReply Route(ClmStore* store, const ClmRequest& request, const Enrollment& enrollment = {});

// JsonDepthWithin reports whether the arrays and objects of |text| nest at
// most |max| deep (strings skipped), in one pass without recursion.
bool JsonDepthWithin(const std::string& text, int max);

}  // namespace ers

#endif  // ERS_CLM_CLM_ROUTER_H_

#include "clm/clm_router.h"

#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clm/clm_page.h"

namespace ers {
namespace {

ClmReply Error(unsigned status, std::string message) {
  return {status, {{"error", std::move(message)}}, {}};
}

ClmReply RouteLocked(ClmStore* store, const Enrollment& enrollment, const ClmRequest& r) {
  if (!store->Touch(r.client, r.identity).ok()) return Error(503, "database busy");
  constexpr absl::string_view kRequests = "/api/v1/certificate-requests";
  if (r.url == kRequests && r.method == "POST") {
    if (!JsonDepthWithin(r.body, kMaxJsonDepth)) {
      return Error(400, absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
    }
    auto [status, body] = SubmitCertificateRequest(store, enrollment, r.client, r.body);
    return {status, std::move(body), {}};
  }
  if (r.url == kRequests && r.method == "GET") {
    absl::StatusOr<nlohmann::json> list = store->CertRequests(r.admin ? "" : r.client);
    if (!list.ok()) return Error(503, "database");
    return {200, {{"certificate_requests", *list}}, {}};
  }
  if (absl::StartsWith(r.url, absl::StrCat(kRequests, "/")) && r.method == "GET") {
    const std::string id = r.url.substr(kRequests.size() + 1);
    absl::StatusOr<nlohmann::json> record = store->CertRequest(r.client, id);
    if (!record.ok()) return Error(503, "database");
    if (record->is_null()) return Error(404, absl::StrCat("no certificate request ", id));
    return {200, PublicRecord(*record), {}};
  }
  if (r.url == "/api/v1/batches" && r.method == "POST") {
    if (!JsonDepthWithin(r.body, kMaxJsonDepth)) {
      return Error(400, absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
    }
    nlohmann::json batch = nlohmann::json::parse(r.body, nullptr, false);
    if (batch.is_discarded()) return Error(400, "body is not JSON");
    if (!r.idempotency_key.empty() && batch.is_object() && !batch.contains("batch_id")) {
      batch["batch_id"] = r.idempotency_key;
    }
    absl::StatusOr<nlohmann::json> reply = store->StoreBatch(r.client, batch, r.body);
    if (!reply.ok()) {
      const absl::StatusCode code = reply.status().code();
      return Error(code == absl::StatusCode::kInvalidArgument   ? 400
                   : code == absl::StatusCode::kAlreadyExists ? 409
                                                              : 503,
                   std::string(reply.status().message()));
    }
    return {200, *reply, {}};
  }
  if (r.url == "/api/v1/clients" && r.method == "GET") {
    absl::StatusOr<nlohmann::json> clients = store->Clients(r.admin ? "" : r.client);
    if (!clients.ok()) return Error(503, "database");
    return {200, {{"clients", *clients}}, {}};
  }
  if (r.url == "/api/v1/inventory" && r.method == "GET") {
    absl::StatusOr<nlohmann::json> inventory = store->Inventory(r.admin ? "" : r.client);
    if (!inventory.ok()) return Error(503, "database");
    return {200, *inventory, {}};
  }
  if ((r.url == "/" || r.url == "/index.html") && r.method == "GET") {
    if (!r.admin) {
      return Error(403, "the page shows every client's data: log in with an admin token");
    }
    absl::StatusOr<nlohmann::json> clients = store->Clients("");
    absl::StatusOr<nlohmann::json> inventory = store->Inventory("");
    if (!clients.ok() || !inventory.ok()) return Error(503, "database");
    ClmReply page{200, nullptr, AdminPage(*clients, *inventory)};
    return page;
  }
  return Error(404, absl::StrCat("no ", r.method, " ", r.url));
}

}  // namespace

ClmReply Route(ClmStore* store, const ClmRequest& request, const Enrollment& enrollment) {
  try {
    return RouteLocked(store, enrollment, request);
  } catch (const std::exception& e) {
    // Whatever a request holds, it ends in an answer, not in the server's
    // end.
    return Error(500, absl::StrCat("internal error: ", e.what()));
  }
}

bool JsonDepthWithin(const std::string& text, int max) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace ers

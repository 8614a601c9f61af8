#include "clm/clm_server.h"

#include "base/encoding.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clm/clm_router.h"

namespace ers {
namespace {

// Bodies larger than this are refused (413): a batch of 500 sightings with
// their certificates is about 1 MiB.
constexpr size_t kMaxBody = 16 << 20;
// All connections together hold at most this much body; past it new
// uploads get 503 + Retry-After, so memory stays bounded whatever clients
// send.
constexpr uint64_t kMaxBuffered = 256 << 20;
// Connections: at most kMaxConnections in all and kMaxPerAddress from one
// address, so that one client (or one attacker) cannot take every slot;
// served by kThreads threads over epoll, so an idle connection costs a
// socket, not a thread. A connection silent for kIdleSeconds (a TLS
// handshake never finished, a request trickling in) is closed.
constexpr int kMaxConnections = 1000;
constexpr int kMaxPerAddress = 32;
constexpr int kThreads = 4;
constexpr int kIdleSeconds = 15;


bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

int Reply(MHD_Connection* connection, unsigned status, const nlohmann::json& body,
          int retry_after = 0, const std::string& html = "") {
  // Text the client chose (a URL, a batch id) may be invalid UTF-8:
  // replaced, never thrown.
  std::string text =
      html.empty() ? body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : html;
  MHD_Response* response = MHD_create_response_from_buffer(
      text.size(), text.data(), MHD_RESPMEM_MUST_COPY);
  if (html.empty()) {
    MHD_add_response_header(response, "Content-Type", "application/json");
  } else {
    MHD_add_response_header(response, "Content-Type", "text/html; charset=utf-8");
    // The page loads nothing and runs nothing.
    MHD_add_response_header(response, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'");
    MHD_add_response_header(response, "Cache-Control", "no-store");
  }
  if (status == MHD_HTTP_UNAUTHORIZED) {
    // A browser asks for the name and token (HTTP Basic; the token is the password).
    MHD_add_response_header(response, "WWW-Authenticate", "Basic realm=\"ers-clm\"");
  }
  if (retry_after > 0) {
    MHD_add_response_header(response, "Retry-After",
                            std::to_string(retry_after).c_str());
  }
  int ret = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return ret;
}

// HasClientAuthUsage reports whether |crt| names TLS client authentication
// among its extended key usages: a server certificate from the same CA is
// no client credential.
bool HasClientAuthUsage(gnutls_x509_crt_t crt) {
  for (unsigned i = 0;; ++i) {
    char oid[128];
    size_t size = sizeof(oid);
    unsigned critical = 0;
    int r = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, &critical);
    if (r == GNUTLS_E_SHORT_MEMORY_BUFFER) continue;  // not the one we look for
    if (r < 0) return false;                          // no more (or none at all)
    if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0) return true;
  }
}

// ClientCertificateName returns the CN of a client certificate that the
// TLS layer verified against the client CA (chain and validity period) and
// that carries the clientAuth extended key usage, or "".
std::string ClientCertificateName(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == nullptr || info->tls_session == nullptr) return "";
  auto session = static_cast<gnutls_session_t>(info->tls_session);
  unsigned status = 0;
  if (gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0) {
    return "";
  }
  unsigned count = 0;
  const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
  if (certs == nullptr || count == 0) return "";
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) != 0) return "";
  std::string name;
  if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
      HasClientAuthUsage(crt)) {
    char cn[256];
    size_t cn_len = sizeof(cn);
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn,
                                      &cn_len) == 0) {
      name.assign(cn, cn_len);
    }
  }
  gnutls_x509_crt_deinit(crt);
  return name;
}

}  // namespace

struct ClmServer::Request {
  std::string body;
  std::string client;    // "" until authenticated; "token:NAME" or "cert:CN"
  std::string identity;
  bool admin = false;
  unsigned early_status = 0;  // answered from the headers, body unread
  nlohmann::json early_error;
};

absl::StatusOr<std::unique_ptr<ClmServer>> ClmServer::Start(ClmServerOptions options,
                                                           ClmStore* store) {
  std::unique_ptr<ClmServer> server(new ClmServer());
  server->options_ = std::move(options);
  server->store_ = store;
  sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(server->options_.port);
  if (inet_pton(AF_INET, server->options_.address.c_str(), &sin.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", server->options_.address, "\" is not an IPv4 address"));
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  const bool tls = !server->options_.cert_pem.empty();
  if (tls) flags |= MHD_USE_TLS;
  MHD_OptionItem opts[12];
  int n = 0;
  opts[n++] = {MHD_OPTION_SOCK_ADDR, 0, &sin};
  opts[n++] = {MHD_OPTION_NOTIFY_COMPLETED,
               reinterpret_cast<intptr_t>(&ClmServer::Completed), server.get()};
  opts[n++] = {MHD_OPTION_CONNECTION_TIMEOUT, kIdleSeconds, nullptr};
  opts[n++] = {MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, nullptr};
  opts[n++] = {MHD_OPTION_PER_IP_CONNECTION_LIMIT, kMaxPerAddress, nullptr};
  opts[n++] = {MHD_OPTION_THREAD_POOL_SIZE, kThreads, nullptr};
  if (tls) {
    opts[n++] = {MHD_OPTION_HTTPS_MEM_CERT, 0,
                 const_cast<char*>(server->options_.cert_pem.c_str())};
    opts[n++] = {MHD_OPTION_HTTPS_MEM_KEY, 0,
                 const_cast<char*>(server->options_.key_pem.c_str())};
    if (!server->options_.client_ca_pem.empty()) {
      opts[n++] = {MHD_OPTION_HTTPS_MEM_TRUST, 0,
                   const_cast<char*>(server->options_.client_ca_pem.c_str())};
    }
  }
  opts[n++] = {MHD_OPTION_END, 0, nullptr};
  server->daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr,
      reinterpret_cast<MHD_AccessHandlerCallback>(&ClmServer::Access), server.get(),
      MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", server->options_.address, ":", server->options_.port,
        " (in use, or a bad certificate or key)"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : server->options_.port;
  return server;
}

ClmServer::~ClmServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

void ClmServer::Completed(void* cls, MHD_Connection*, void** con_cls, int) {
  auto* self = static_cast<ClmServer*>(cls);
  auto* request = static_cast<Request*>(*con_cls);
  if (request != nullptr) self->buffered_ -= request->body.size();
  delete request;
  *con_cls = nullptr;
}

unsigned ClmServer::Admit(MHD_Connection* connection, const std::string& url,
                          const std::string& method, Request* request,
                          nlohmann::json* error) {
  if (url == "/api/v1/health") return 0;
  request->client = Authenticate(connection, &request->identity, &request->admin);
  if (request->client.empty()) {
    *error = {{"error", "missing or invalid credentials: send a bearer token "
                        "or a client certificate this server trusts"}};
    return MHD_HTTP_UNAUTHORIZED;
  }
  if (method != "POST" && method != "PUT") return 0;
  const char* type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Type");
  if (type == nullptr || !absl::StartsWithIgnoreCase(type, "application/json")) {
    *error = {{"error", "send the batch as Content-Type: application/json"}};
    return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
  }
  const char* length =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length");
  uint64_t declared = 0;
  if (length != nullptr && (!absl::SimpleAtoi(length, &declared) || declared > kMaxBody)) {
    *error = {{"error", absl::StrCat("batch larger than ", kMaxBody >> 20,
                                     " MiB: send smaller batches")}};
    return MHD_HTTP_CONTENT_TOO_LARGE;
  }
  if (buffered_.load() + declared > kMaxBuffered) {
    *error = {{"error", "the server is holding too many uploads; retry shortly"}};
    return MHD_HTTP_SERVICE_UNAVAILABLE;
  }
  return 0;
}

int ClmServer::Access(void* cls, MHD_Connection* connection, const char* url,
                      const char* method, const char*, const char* upload_data,
                      size_t* upload_data_size, void** con_cls) {
  auto* self = static_cast<ClmServer*>(cls);
  if (*con_cls == nullptr) {
    auto* request = new Request();
    *con_cls = request;
    // The headers are in: refuse what they already refuse, before a byte of
    // the body is read.
    request->early_status = self->Admit(connection, url, method, request, &request->early_error);
    if (request->early_status != 0) {
      return Reply(connection, request->early_status, request->early_error,
                   request->early_status == MHD_HTTP_SERVICE_UNAVAILABLE ? 5 : 0);
    }
    return MHD_YES;
  }
  auto* request = static_cast<Request*>(*con_cls);
  if (request->early_status != 0) {
    *upload_data_size = 0;  // answered already; the connection closes after
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    // Bounded per request and over all requests; a chunked body that goes
    // on past the bound ends its connection.
    if (request->body.size() + *upload_data_size > kMaxBody ||
        self->buffered_.load() + *upload_data_size > kMaxBuffered) {
      return MHD_NO;
    }
    request->body.append(upload_data, *upload_data_size);
    self->buffered_ += *upload_data_size;
    *upload_data_size = 0;
    return MHD_YES;
  }
  try {
    return self->Handle(connection, url, method, request);
  } catch (const std::exception& e) {
    // Whatever a request does, it ends in an answer, not in the server's
    // end.
    return Reply(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                 {{"error", absl::StrCat("internal error: ", e.what())}});
  }
}

std::string ClmServer::Authenticate(MHD_Connection* connection,
                                    std::string* identity, bool* admin) {
  const char* auth =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization");
  std::string token;
  std::string basic_name;
  if (auth != nullptr && absl::StartsWith(auth, "Basic ")) {
    // A browser: NAME:TOKEN, the token as the password.
    std::string decoded;
    if (!Base64Decode(auth + 6, &decoded)) return "";
    const size_t colon = decoded.find(':');
    if (colon == std::string::npos) return "";
    basic_name = decoded.substr(0, colon);
    token = decoded.substr(colon + 1);
  } else if (auth != nullptr && absl::StartsWith(auth, "Bearer ")) {
    token = auth + 7;
  }
  if (auth != nullptr && !token.empty()) {
    for (const auto& [known, name] : options_.tokens) {
      if (ConstantTimeEquals(token, known)) {
        if (!basic_name.empty() && basic_name != name) return "";
        *identity = "token";
        *admin = options_.admins.count(name) > 0;
        return absl::StrCat(kTokenClientPrefix, name);
      }
    }
    return "";  // a wrong token is not retried as a certificate
  }
  if (!options_.client_ca_pem.empty()) {
    std::string cn = ClientCertificateName(connection);
    if (!cn.empty()) {
      *identity = "certificate";
      *admin = false;
      return absl::StrCat(kCertificateClientPrefix, cn);
    }
  }
  return "";
}

int ClmServer::Handle(MHD_Connection* connection, const std::string& url,
                      const std::string& method, Request* request) {
  if (url == "/api/v1/health" && method == "GET") {
    return Reply(connection, MHD_HTTP_OK, {{"status", "ok"}});
  }
  // Admit authenticated the client before the body was read.
  const std::string& client = request->client;
  const std::string& identity = request->identity;
  if (client.empty()) {
    return Reply(connection, MHD_HTTP_UNAUTHORIZED,
                 {{"error", "missing or invalid credentials: send a bearer token "
                            "or a client certificate this server trusts"}});
  }
  ClmRequest r;
  r.method = method;
  r.url = url;
  r.client = client;
  r.identity = identity;
  r.admin = request->admin;
  // The body moves to the router: it no longer counts as held here.
  buffered_ -= request->body.size();
  r.body = std::move(request->body);
  request->body.clear();
  const char* key = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Idempotency-Key");
  if (key != nullptr) r.idempotency_key = key;
  const bool upload = url == "/api/v1/batches" && method == "POST";
  const int seen = upload ? ++uploads_seen_ : 0;
  if (upload && seen <= options_.inject_429) {
    return Reply(connection, MHD_HTTP_TOO_MANY_REQUESTS, {{"error", "slow down"}},
                 options_.retry_after_seconds);
  }
  const bool enroll = url == std::string("/api/v1/certificate-requests") && method == "POST";
  ClmReply reply = Route(store_, r, options_.enrollment);
  if (enroll && reply.status < 300 &&
      requests_held_.fetch_add(1) < options_.inject_hang_requests) {
    std::this_thread::sleep_for(std::chrono::seconds(options_.hang_seconds));
  }
  if (upload && reply.status == MHD_HTTP_OK) {
    if (seen <= options_.inject_429 + options_.inject_hang) {
      // Stored, but the reply comes too late: the client must retry, and
      // the retry must not store the batch twice.
      std::this_thread::sleep_for(std::chrono::seconds(options_.hang_seconds));
    } else if (seen <= options_.inject_429 + options_.inject_hang + options_.inject_wrong_ack) {
      reply.body["batch_id"] = "some-other-batch";
    }
  }
  return Reply(connection, reply.status, reply.body, 0, reply.html);
}

}  // namespace ers

// clm_server.h: the reference CLM endpoint's HTTP(S) server (GNU
// libmicrohttpd, TLS through GnuTLS). It implements the upload API of
// docs/clm-api.yaml: clients authenticate with a bearer token or a client
// certificate; batches are stored once per idempotency key.
#ifndef ERS_CLM_CLM_SERVER_H_
#define ERS_CLM_CLM_SERVER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clm/certificate_requests.h"
#include "clm/clm_store.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace ers {

// The prefixes of client names by how the client authenticated.
inline constexpr char kTokenClientPrefix[] = "token:";
inline constexpr char kCertificateClientPrefix[] = "cert:";

struct ClmServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8444;  // 0: any free port
  std::string cert_pem;  // TLS when set
  std::string key_pem;
  std::string client_ca_pem;  // client certificates accepted when set
  // tokens maps a bearer token to the client name it authenticates.
  std::map<std::string, std::string> tokens;
  // admins are the client names (from tokens) that read every client's
  // data; others read only their own.
  std::set<std::string> admins;
  // Fault injection for the uploader's tests: answer the first N batch
  // uploads with 429 + Retry-After, or store them and then hold the reply
  // for |hang_seconds| (a server that hangs mid-response).
  int inject_429 = 0;
  int retry_after_seconds = 1;
  int inject_hang = 0;
  int hang_seconds = 20;
  // Then store the next N uploads but acknowledge another batch id (a
  // confused CLM or proxy): the client must not count that as delivery.
  int inject_wrong_ack = 0;
  // Store (and issue) the next N certificate requests, then hold the reply
  // for |hang_seconds|: a client killed while it waits must get the same
  // request when it submits again.
  int inject_hang_requests = 0;
  // What issuing needs (certificate_requests.h); none: no issuing.
  Enrollment enrollment;
};

class ClmServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ClmServer>> Start(
      ClmServerOptions options, ClmStore* store);
  ~ClmServer();

  uint16_t port() const { return port_; }

 private:
  ClmServer() = default;
  struct Request;
  static int Access(void* cls, MHD_Connection* connection, const char* url,
                    const char* method, const char* version,
                    const char* upload_data, size_t* upload_data_size,
                    void** con_cls);
  static void Completed(void* cls, MHD_Connection* connection, void** con_cls,
                        int toe);
  // Admit decides what the headers alone decide, before any body is read:
  // authentication, the declared type and size, the memory budget. It
  // returns a status to answer at once, or 0 to read the body.
  unsigned Admit(MHD_Connection* connection, const std::string& url,
                 const std::string& method, Request* request, nlohmann::json* error);
  int Handle(MHD_Connection* connection, const std::string& url,
             const std::string& method, Request* request);
  // Authenticate returns the client's name, or "" when not authenticated.
  // Names live in two namespaces that never meet: "token:NAME" for a bearer
  // token named NAME in the tokens file, "cert:CN" for a client
  // certificate, so a certificate cannot pass for a token's client.
  // |admin| is set for tokens marked admin.
  std::string Authenticate(MHD_Connection* connection, std::string* identity, bool* admin);

  ClmServerOptions options_;
  ClmStore* store_ = nullptr;
  std::atomic<int> requests_held_{0};
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<int> uploads_seen_{0};
  // Bytes of request bodies held by all connections together.
  std::atomic<uint64_t> buffered_{0};
};

}  // namespace ers

#endif  // ERS_CLM_CLM_SERVER_H_

// ers-clm: the reference CLM endpoint. It implements the upload API that
// `ers scan` and `ers push` use (docs/clm-api.yaml), stores what clients
// send in SQLite, lists its clients and serves the inventory as JSON. A
// real certificate lifecycle manager replaces it in production.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "base/last_resort.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "base/config_lines.h"
#include "base/files.h"
#include "base/flags.h"
#include "base/version.h"
#include "absl/strings/str_join.h"
#include "clm/certificate_requests.h"
#include "clm/clm_server.h"
#include "clm/issuer.h"
#include "clm/issuing_policy.h"

namespace {

constexpr const char* kHelp = R"(Usage: ers-clm --db PATH --tokens-file FILE [--cert FILE --key FILE] [flags]

The reference CLM endpoint for ers. Clients authenticate with a bearer
token (from --tokens-file: "NAME TOKEN [admin]" per line, '#' comments) or
with a client certificate issued by --client-ca (its CN names the client;
it needs the clientAuth usage). A client reads only its own clients entry
and sightings; "admin" tokens read everyone's.
HTTPS needs --cert and --key; plain HTTP needs --insecure-http and is
for loopback tests only.

  GET  /api/v1/health       liveness
  POST /api/v1/batches      upload a batch (idempotent by batch_id)
  GET  /api/v1/clients      clients with last contact and counts (own; all: admin)
  GET  /api/v1/inventory    certificates and sightings (own; all: admin)
  POST /api/v1/certificate-requests        submit a CSR (idempotent by request_id)
  GET  /api/v1/certificate-requests        requests and decisions (own; all: admin)
  GET  /api/v1/certificate-requests/ID     one of the client's own requests

Issuing: --issuing-ca CERT,KEY signs the CSRs that --issuing-policy FILE
allows, one line per client (see docs/clm-api.yaml):
  token:scanner1  dns=example.com,example.net ip=10.0.0.0/8 keys=ec-p256,rsa-2048 days=90 approval=auto
  *               dns=lab.example.com approval=hold
Held requests: ers-clm --db PATH --list-requests, then
  ers-clm --db PATH --issuing-ca CERT,KEY --approve ID
  ers-clm --db PATH --reject ID --reason TEXT

Example:
  ers-clm --listen 127.0.0.1:8444 --db clm.db --cert server.pem \
          --key server.key --tokens-file tokens.txt \
          --issuing-ca ca.pem,ca.key --issuing-policy issuing.policy

Flags:
)";

// ReadFile reads a configuration file (base/files.h), printing why not.
bool ReadFile(const std::string& path, std::string* out) {
  absl::StatusOr<std::string> text = ers::ReadSmallFile(path);
  if (!text.ok()) {
    fprintf(stderr, "ers-clm: %s\n", std::string(text.status().message()).c_str());
    return false;
  }
  *out = *std::move(text);
  return true;
}

int Fail(const std::string& message) {
  fprintf(stderr, "ers-clm: %s\n", message.c_str());
  return 2;
}

// Administer runs --list-requests, --approve or --reject on the database
// and returns the exit code.
int Administer(const std::string& db, const ers::Issuer* issuer,
               const std::optional<std::string>& approve, const std::optional<std::string>& reject,
               const std::optional<std::string>& reason, bool list) {
  if (approve.has_value() + reject.has_value() + list != 1) {
    return Fail("give one of --list-requests, --approve ID, --reject ID");
  }
  absl::StatusOr<std::unique_ptr<ers::ClmStore>> store = ers::ClmStore::Open(db);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  if (list) {
    absl::StatusOr<nlohmann::json> requests = (*store)->CertRequests("");
    if (!requests.ok()) return Fail(std::string(requests.status().message()));
    printf("%-5s %-8s %-24s %-9s %s\n", "ID", "STATUS", "CLIENT", "KEY", "NAMES");
    for (const nlohmann::json& r : *requests) {
      std::vector<std::string> names;
      for (const auto& n : r["names"]) names.push_back(n.get<std::string>());
      printf("%-5lld %-8s %-24s %-9s %s\n", static_cast<long long>(r["id"].get<int64_t>()),
             r["status"].get<std::string>().c_str(), r["client"].get<std::string>().c_str(),
             r["key"].get<std::string>().c_str(), absl::StrJoin(names, ",").c_str());
    }
    return 0;
  }
  int64_t id = 0;
  if (!absl::SimpleAtoi(approve.has_value() ? *approve : *reject, &id)) {
    return Fail("--approve and --reject take a request's ID (ers-clm --list-requests)");
  }
  absl::StatusOr<nlohmann::json> decided;
  if (approve.has_value()) {
    if (issuer == nullptr) return Fail("--approve needs --issuing-ca CERT,KEY");
    decided = ers::ApproveCertificateRequest(store->get(), *issuer, id, "ers-clm --approve");
  } else {
    if (!reason.has_value() || reason->empty()) return Fail("--reject needs --reason TEXT");
    decided = ers::RejectCertificateRequest(store->get(), id, *reason, "ers-clm --reject");
  }
  if (!decided.ok()) return Fail(std::string(decided.status().message()));
  printf("request %lld (%s): %s%s\n", static_cast<long long>(id),
         (*decided)["client"].get<std::string>().c_str(),
         (*decided)["status"].get<std::string>().c_str(),
         approve.has_value()
             ? absl::StrCat(", serial ", (*decided)["serial"].get<std::string>()).c_str()
             : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ers::InstallLastResortHandler("ers-clm");
  std::optional<std::string> listen, db, cert, key, client_ca, tokens_file,
      port_file, inject_429, inject_hang, hang_seconds, inject_wrong_ack, issuing_ca,
      issuing_policy, approve, reject, reason, inject_hang_requests;
  bool list_requests = false;
  bool insecure_http = false, print_version = false;
  ers::FlagSet flags("clm");
  flags.String("listen", "ADDR:PORT", "where to listen (default 127.0.0.1:8444; port 0: any)", &listen);
  flags.String("db", "PATH", "the server's SQLite database", &db);
  flags.String("cert", "FILE", "TLS certificate chain (PEM)", &cert);
  flags.String("key", "FILE", "TLS private key (PEM)", &key);
  flags.String("client-ca", "FILE", "accept client certificates issued by these CAs", &client_ca);
  flags.String("tokens-file", "FILE", "bearer tokens: NAME TOKEN per line", &tokens_file);
  flags.Bool("version", "print the version and exit", &print_version);
  flags.Bool("insecure-http", "serve plain HTTP (loopback tests only)", &insecure_http);
  flags.String("port-file", "FILE", "write the bound port here once listening", &port_file);
  flags.String("inject-429", "N", "testing: answer the first N uploads with 429", &inject_429);
  flags.String("inject-hang", "N", "testing: store, then hold the reply of the next N uploads", &inject_hang);
  flags.String("inject-wrong-ack", "N", "testing: store the next N uploads, then acknowledge "
               "another batch id", &inject_wrong_ack);
  flags.String("hang-seconds", "N", "testing: how long a held reply waits (default 20)", &hang_seconds);
  flags.String("inject-hang-requests", "N", "testing: issue, then hold the reply of the next N "
               "certificate requests", &inject_hang_requests);
  flags.String("issuing-ca", "CERT,KEY", "sign certificate requests with this CA (PEM chain, "
               "issuing CA first; its PEM key)", &issuing_ca);
  flags.String("issuing-policy", "FILE", "what each client may request (one line per client)",
               &issuing_policy);
  flags.Bool("list-requests", "print the certificate requests in --db and exit", &list_requests);
  flags.String("approve", "ID", "issue held request ID (needs --issuing-ca) and exit", &approve);
  flags.String("reject", "ID", "refuse held request ID (with --reason) and exit", &reject);
  flags.String("reason", "TEXT", "why --reject refuses", &reason);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (absl::Status s = flags.Parse(args, nullptr); !s.ok()) return Fail(std::string(s.message()));
  if (flags.help_requested()) {
    printf("%s%s", kHelp, flags.Usage().c_str());
    return 0;
  }
  if (print_version) {
    printf("ers-clm %s\n", ers::kVersion);
    return 0;
  }
  if (!db.has_value()) return Fail("--db is required");
  ers::ClmServerOptions options;
  std::unique_ptr<ers::Issuer> issuer;
  if (issuing_ca.has_value()) {
    std::vector<std::string> files = absl::StrSplit(*issuing_ca, ',');
    std::string chain, key;
    if (files.size() != 2) return Fail("--issuing-ca takes CERT,KEY (two PEM files)");
    if (!ReadFile(files[0], &chain) || !ReadFile(files[1], &key)) return 2;
    absl::StatusOr<std::unique_ptr<ers::Issuer>> loaded = ers::Issuer::Load(chain, key);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    issuer = *std::move(loaded);
  }
  std::optional<ers::IssuingPolicy> policy;
  if (issuing_policy.has_value()) {
    std::string text;
    if (!ReadFile(*issuing_policy, &text)) return 2;
    absl::StatusOr<ers::IssuingPolicy> parsed = ers::IssuingPolicy::Parse(text, *issuing_policy);
    if (!parsed.ok()) return Fail(std::string(parsed.status().message()));
    policy = *std::move(parsed);
  }
  if (approve.has_value() || reject.has_value() || list_requests) {
    return Administer(*db, issuer.get(), approve, reject, reason, list_requests);
  }
  if (issuer != nullptr && !policy.has_value()) {
    return Fail("--issuing-ca needs --issuing-policy (what each client may request)");
  }
  if (issuer != nullptr) options.enrollment = {issuer.get(), &*policy};
  if (listen.has_value()) {
    std::vector<std::string> parts = absl::StrSplit(*listen, ':');
    int port = -1;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port) || port < 0 || port > 65535) {
      return Fail("--listen must be ADDRESS:PORT, e.g. 127.0.0.1:8444");
    }
    options.address = parts[0];
    options.port = static_cast<uint16_t>(port);
  }
  if (cert.has_value() != key.has_value()) return Fail("--cert and --key go together");
  if (cert.has_value()) {
    if (!ReadFile(*cert, &options.cert_pem)) return Fail("cannot read " + *cert);
    if (!ReadFile(*key, &options.key_pem)) return Fail("cannot read " + *key);
  } else if (!insecure_http) {
    return Fail("give --cert and --key (HTTPS), or --insecure-http for loopback tests");
  }
  if (client_ca.has_value()) {
    if (!cert.has_value()) return Fail("--client-ca needs HTTPS (--cert, --key)");
    if (!ReadFile(*client_ca, &options.client_ca_pem)) return Fail("cannot read " + *client_ca);
  }
  if (tokens_file.has_value()) {
    std::string text;
    if (!ReadFile(*tokens_file, &text)) return Fail("cannot read " + *tokens_file);
    for (const ers::ConfigLine& line : ers::ConfigLines(text)) {
      std::vector<absl::string_view> parts = absl::StrSplit(line.text, ' ', absl::SkipEmpty());
      const bool admin = parts.size() == 3 && parts[2] == "admin";
      if ((parts.size() != 2 && !admin) || parts[1].size() < 16) {
        return Fail(std::string(ers::ConfigLineError(*tokens_file, line,
                                                "expected NAME TOKEN [admin] (tokens of 16 or "
                                                "more characters)")
                                    .message()));
      }
      options.tokens[std::string(parts[1])] = std::string(parts[0]);
      if (admin) options.admins.insert(std::string(parts[0]));
    }
  }
  if (options.tokens.empty() && options.client_ca_pem.empty()) {
    return Fail("no way for clients to authenticate: give --tokens-file or --client-ca");
  }
  auto count = [](const std::optional<std::string>& v, int* out) {
    return !v.has_value() || absl::SimpleAtoi(*v, out);
  };
  if (!count(inject_429, &options.inject_429) || !count(inject_hang, &options.inject_hang) ||
      !count(hang_seconds, &options.hang_seconds) ||
      !count(inject_wrong_ack, &options.inject_wrong_ack) ||
      !count(inject_hang_requests, &options.inject_hang_requests)) {
    return Fail("--inject-429, --inject-hang, --inject-wrong-ack and --hang-seconds take numbers");
  }

  absl::StatusOr<std::unique_ptr<ers::ClmStore>> store = ers::ClmStore::Open(*db);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server's threads
  absl::StatusOr<std::unique_ptr<ers::ClmServer>> server =
      ers::ClmServer::Start(options, store->get());
  if (!server.ok()) return Fail(std::string(server.status().message()));
  fprintf(stderr, "ers-clm: listening on %s://%s:%u\n", cert.has_value() ? "https" : "http",
          options.address.c_str(), (*server)->port());
  if (port_file.has_value()) {
    std::ofstream out(*port_file + ".tmp");
    out << (*server)->port() << "\n";
    out.close();
    rename((*port_file + ".tmp").c_str(), port_file->c_str());
  }
  int sig = 0;
  sigwait(&set, &sig);
  fprintf(stderr, "ers-clm: stopping\n");
  server->reset();
  return 0;
}

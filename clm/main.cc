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
#include "clm/clm_server.h"

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

Example:
  ers-clm --listen 127.0.0.1:8444 --db clm.db --cert server.pem \
          --key server.key --tokens-file tokens.txt

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

}  // namespace

int main(int argc, char** argv) {
  ers::InstallLastResortHandler("ers-clm");
  std::optional<std::string> listen, db, cert, key, client_ca, tokens_file,
      port_file, inject_429, inject_hang, hang_seconds, inject_wrong_ack;
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
      !count(inject_wrong_ack, &options.inject_wrong_ack)) {
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

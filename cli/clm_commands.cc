// clm_commands.cc: ers login, logout, status and push, and the push that
// follows a scan: everything between the inventory and the CLM.
#include <unistd.h>

#include <functional>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/printable.h"
#include "base/json_fields.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "upload/batches.h"
#include "cli/clm_push.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "cli/scan_lock.h"
#include "upload/credentials.h"
#include "base/flags.h"
#include "upload/spool.h"
#include "upload/uploader.h"

namespace ers {
namespace {

constexpr const char* kLoginHelp = R"(Usage: ers login --url https://CLM[:PORT] CREDENTIAL [flags]

Stores how ers reaches the CLM: its URL and this client's credential, in a
file only you can read (mode 0600; "<inventory>.credentials", or
$ERS_CREDENTIALS). The credential is a bearer token, read from a file or
standard input (never from the command line, where other users could see
it), or a client certificate and key. The CLM's certificate is verified
against the system's CA store, or --ca-file. ers login checks the
credential with the CLM before storing it.

Examples:
  ers login --url https://clm.example.com:8444 --token-file ~/clm-token
  echo "$TOKEN" | ers login --url https://clm.example.com --token-stdin
  ers login --url https://clm.example.com --client-cert me.pem --client-key me.key \
            --ca-file clm-ca.pem

Flags:
)";

absl::StatusOr<std::string> DbPath(const std::optional<std::string>& db) {
  if (db.has_value()) return *db;
  return DefaultDatabasePath();
}

}  // namespace

void AddPushFlags(FlagSet& flags, PushFlags* values) {
  flags.Count("max-attempts", "tries per batch before giving up for now (default 5)", 1, 100,
              &values->attempts);
  flags.Duration("retry-base", "first backoff, doubled each retry (default 1s)",
                 absl::ZeroDuration(), absl::Hours(1), &values->retry_base);
  flags.Duration("timeout", "per request, reply included (default 60s)",
                 absl::Milliseconds(1), absl::Hours(1), &values->timeout);
  flags.Count("spool-max-bytes", "bound on the batches waiting for the CLM (default 1 GiB); "
              "past it runs stay in the inventory until there is room",
              1, uint64_t{1} << 50, &values->spool_max_bytes);
}

void ApplyPushFlags(const PushFlags& values, PushOptions* options) {
  if (values.attempts.has_value()) options->max_attempts = static_cast<int>(*values.attempts);
  if (values.retry_base.has_value()) {
    options->retry_base_s = absl::ToDoubleSeconds(*values.retry_base);
  }
  if (values.timeout.has_value()) {
    options->timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(*values.timeout));
  }
}

namespace {

// SpoolRuns adds the batches of every run not yet spooled, oldest first,
// each run whole or not at all. When the spool has no room for a run it
// stops with a warning and returns false: that run and later ones stay in
// the inventory, unspooled, and a later push spools them once the CLM has
// taken the waiting batches.
absl::StatusOr<bool> SpoolRuns(Inventory& inventory, Spool& spool, const Streams& io) {
  absl::StatusOr<std::vector<int64_t>> runs = inventory.UnspooledRuns();
  if (!runs.ok()) return runs.status();
  for (int64_t run : *runs) {
    absl::StatusOr<std::vector<Batch>> batches = BuildRunBatches(inventory, run);
    if (!batches.ok()) return batches.status();
    uint64_t bytes = 0;
    for (const Batch& b : *batches) bytes += b.body.size();
    if (!spool.Fits(bytes)) {
      fprintf(io.err,
              "ers: warning: the spool %s is full (%llu bytes waiting, bound %llu): run %lld "
              "and later runs are not spooled yet; the inventory keeps them, and ers push "
              "spools them once the CLM has taken the waiting batches (or with a larger "
              "--spool-max-bytes)\n",
              spool.dir().c_str(), static_cast<unsigned long long>(spool.Bytes()),
              static_cast<unsigned long long>(spool.max_bytes()), static_cast<long long>(run));
      return false;
    }
    for (const Batch& b : *batches) {
      if (absl::Status s = spool.Add(b.id, b.body); !s.ok()) return s;
    }
    if (absl::Status s = inventory.MarkSpooled(run); !s.ok()) return s;
  }
  return true;
}

// PushAll spools what is missing and pushes, again while a full spool
// drains (bounded).
// Only a holder of the scan lock spools (|may_spool|): two processes
// spooling one run would send it twice under different batch ids.
PushReport PushAll(const Credentials& c, Inventory& inventory, Spool& spool,
                   const PushOptions& options, const Streams& io, absl::Status* error,
                   bool* all_spooled, bool may_spool) {
  PushReport total;
  for (int round = 0; round < 1000; ++round) {
    absl::StatusOr<bool> complete =
        may_spool ? SpoolRuns(inventory, spool, io) : absl::StatusOr<bool>(true);
    if (!complete.ok()) {
      *error = complete.status();
      return total;
    }
    *all_spooled = *complete;
    PushReport r = PushSpool(c, spool, options);
    total.sent += r.sent;
    total.duplicates += r.duplicates;
    total.rejected += r.rejected;
    total.remaining = r.remaining;
    total.fix_needed = r.fix_needed;
    if (!r.error.empty()) total.error = r.error;
    if (*complete || r.sent == 0 || r.remaining > 0 || options.max_attempts <= 0) break;
  }
  return total;
}

}  // namespace

int SpoolAndPush(const std::string& db_path, Inventory& inventory, const PushOptions& options,
                 uint64_t spool_max_bytes, const Streams& io, bool* pushed_all,
                 const std::function<void()>& spooled) {
  *pushed_all = true;
  absl::StatusOr<Credentials> creds = LoadCredentials(CredentialsPath(db_path));
  if (!creds.ok()) {
    if (spooled) spooled();
    if (absl::IsNotFound(creds.status())) return kExitOk;  // no CLM configured
    return ReportError(io, creds.status());
  }
  // Spool first: from here on nothing is lost, whatever happens.
  Spool spool(SpoolDir(db_path), spool_max_bytes);
  absl::StatusOr<bool> all_spooled = SpoolRuns(inventory, spool, io);
  if (spooled) spooled();
  if (!all_spooled.ok()) return ReportError(io, all_spooled.status());
  if (!*all_spooled) *pushed_all = false;
  if (options.max_attempts <= 0) {
    *pushed_all = false;
    return kExitOk;  // spooled only, as asked
  }
  // On a terminal the push says what it does, batch by batch.
  absl::StatusOr<std::vector<std::string>> waiting = spool.Pending();
  const size_t total = waiting.ok() ? waiting->size() : 0;
  const bool live = isatty(fileno(io.err)) != 0 && total > 0;
  PushOptions o = options;
  size_t sent = 0;
  if (live) {
    fprintf(io.err, "\r\033[Kers: sending %zu batch(es) to %s", total,
            Printable(creds->url).c_str());
    fflush(io.err);
    o.on_delivered = [&](const std::string& id, int attempts, absl::Duration elapsed) {
      if (options.on_delivered) options.on_delivered(id, attempts, elapsed);
      fprintf(io.err, "\r\033[Kers: sent %zu/%zu batch(es) to %s", ++sent, total,
              Printable(creds->url).c_str());
      fflush(io.err);
    };
  }
  PushReport report = PushSpool(*creds, spool, o);
  if (live) {
    fprintf(io.err, "\r\033[K");
    fflush(io.err);
  }
  if (report.rejected > 0) {
    fprintf(io.err,
            "ers: the CLM refused %d batch(es) for good: set aside in %s/rejected (ers status "
            "shows why; ers push --retry-rejected sends them again)\n",
            report.rejected, spool.dir().c_str());
  }
  if (report.remaining > 0) {
    *pushed_all = false;
    fprintf(io.err, "ers: %d batch(es) not delivered to the CLM and left spooled in %s (%s); %s\n",
            report.remaining, spool.dir().c_str(), Printable(report.error).c_str(),
            report.fix_needed ? "fix that, then run ers push"
                              : "ers push or the next scan sends them");
    return report.fix_needed ? kExitUsage : kExitPartial;
  }
  return report.rejected > 0 || !*all_spooled ? kExitPartial : kExitOk;
}

int RunLogin(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> url, token_file, client_cert, client_key, ca_file, db;
  bool token_stdin = false, no_check = false;
  FlagSet flags("login");
  flags.String("url", "URL", "the CLM's base URL (https://...)", &url);
  flags.String("token-file", "FILE", "read the bearer token from FILE", &token_file);
  flags.Bool("token-stdin", "read the bearer token from standard input", &token_stdin);
  flags.String("client-cert", "FILE", "authenticate with this client certificate (PEM)",
               &client_cert);
  flags.String("client-key", "FILE", "the client certificate's private key (PEM)",
               &client_key);
  flags.String("ca-file", "FILE", "verify the CLM against these CAs instead of the "
               "system store", &ca_file);
  flags.Bool("no-check", "store without contacting the CLM", &no_check);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kLoginHelp, io)) {
    return *done;
  }
  if (!url.has_value() || !absl::StartsWith(*url, "https://")) {
    return ReportError(io, absl::InvalidArgumentError(
                               "--url https://... is required (ers talks to the CLM over "
                               "verified TLS only)"));
  }
  Credentials c;
  c.url = std::string(absl::StripSuffix(*url, "/"));
  const int ways = token_file.has_value() + token_stdin + client_cert.has_value();
  if (ways != 1) {
    return ReportError(io, absl::InvalidArgumentError(
                               "give exactly one credential: --token-file, --token-stdin, "
                               "or --client-cert with --client-key"));
  }
  if (token_file.has_value()) {
    absl::StatusOr<std::string> t = ReadSmallFile(*token_file);
    if (!t.ok()) return ReportError(io, t.status());
    c.token = std::string(absl::StripAsciiWhitespace(*t));
  } else if (token_stdin) {
    std::getline(std::cin, c.token);
    c.token = std::string(absl::StripAsciiWhitespace(c.token));
  } else {
    if (!client_key.has_value()) {
      return ReportError(io, absl::InvalidArgumentError("--client-cert needs --client-key"));
    }
    c.client_cert = AbsolutePath(*client_cert);
    c.client_key = AbsolutePath(*client_key);
  }
  if (token_file.has_value() || token_stdin) {
    if (c.token.empty() || c.token.find_first_of(" \t\r\n") != std::string::npos) {
      return ReportError(io, absl::InvalidArgumentError(
                                 "the token is empty or contains white space"));
    }
  }
  if (ca_file.has_value()) c.ca_file = AbsolutePath(*ca_file);
  if (!no_check) {
    PushOptions o;
    o.timeout_ms = 15000;
    PostResult r = GetJson(c, "/api/v1/clients", o);
    if (r.result != PushClass::kAcknowledged) {
      return ReportError(io, absl::PermissionDeniedError(
                                 absl::StrCat("the CLM refused this client: ", r.message)));
    }
  }
  absl::StatusOr<std::string> path = DbPath(db);
  if (!path.ok()) return ReportError(io, path.status());
  const std::string file = CredentialsPath(*path);
  if (absl::Status s = SaveCredentials(file, c); !s.ok()) return ReportError(io, s);
  fprintf(io.out, "logged in to %s as %s (stored in %s)\n", c.url.c_str(),
          c.Identity().c_str(), file.c_str());
  return kExitOk;
}

int RunLogout(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db;
  FlagSet flags("logout");
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, "Usage: ers logout\n\nForgets the CLM's URL and credential. "
                    "Spooled batches stay.\n\nFlags:\n", io)) {
    return *done;
  }
  absl::StatusOr<std::string> path = DbPath(db);
  if (!path.ok()) return ReportError(io, path.status());
  const std::string file = CredentialsPath(*path);
  if (unlink(file.c_str()) != 0 && errno != ENOENT) {
    return ReportError(io, absl::PermissionDeniedError(
                               absl::StrCat("cannot remove ", file, ": ", strerror(errno))));
  }
  fprintf(io.out, "logged out (%s removed)\n", file.c_str());
  return kExitOk;
}

int RunStatus(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db;
  bool remote = false;
  FlagSet flags("status");
  flags.Bool("remote", "also ask the CLM what it holds from its clients", &remote);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, "Usage: ers status\n\nShows the configured CLM, this client's "
                    "identity and the spool.\n\nFlags:\n", io)) {
    return *done;
  }
  absl::StatusOr<std::string> path = DbPath(db);
  if (!path.ok()) return ReportError(io, path.status());
  fprintf(io.out, "inventory:   %s\n", path->c_str());
  absl::StatusOr<Credentials> c = LoadCredentials(CredentialsPath(*path));
  if (c.ok()) {
    fprintf(io.out, "CLM:         %s\nidentity:    %s\n", c->url.c_str(),
            c->Identity().c_str());
    if (!c->ca_file.empty()) fprintf(io.out, "CA file:     %s\n", c->ca_file.c_str());
    if (remote) {
      PushOptions o;
      o.timeout_ms = 15000;
      PostResult r = GetJson(*c, "/api/v1/clients", o);
      if (r.result != PushClass::kAcknowledged) {
        return ReportError(io, absl::UnavailableError(r.message));
      }
      // The CLM's replies are outside data: every field read by type.
      nlohmann::json clients = nlohmann::json::parse(r.body, nullptr, false);
      fprintf(io.out, "CLM clients:\n");
      if (clients.is_object() && clients.contains("clients") && clients["clients"].is_array()) {
        for (const auto& cl : clients["clients"]) {
          fprintf(io.out, "  %-20s %-32s last contact %s, %lld batches, %lld sightings, "
                          "%lld certificates\n",
                  Printable(JsonString(cl, "name")).c_str(),
                  Printable(JsonString(cl, "identity")).c_str(),
                  absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                                   absl::FromUnixSeconds(JsonInt(cl, "last_contact")),
                                   absl::UTCTimeZone()).c_str(),
                  static_cast<long long>(JsonInt(cl, "batches")),
                  static_cast<long long>(JsonInt(cl, "sightings")),
                  static_cast<long long>(JsonInt(cl, "certificates")));
        }
      }
      PostResult inv = GetJson(*c, "/api/v1/inventory", o);
      nlohmann::json inventory = nlohmann::json::parse(inv.body, nullptr, false);
      if (inv.result == PushClass::kAcknowledged && inventory.is_object() &&
          inventory.contains("sightings") && inventory["sightings"].is_array()) {
        const nlohmann::json& sightings = inventory["sightings"];
        const size_t certificates =
            inventory.contains("certificates") && inventory["certificates"].is_array()
                ? inventory["certificates"].size()
                : 0;
        fprintf(io.out, "CLM inventory: %zu certificates, %zu sightings%s\n", certificates,
                sightings.size(), sightings.size() > 20 ? " (first 20)" : "");
        size_t shown = 0;
        for (const auto& s : sightings) {
          if (shown++ >= 20) break;
          std::string ids;
          if (s.is_object() && s.contains("findings") && s["findings"].is_array()) {
            for (const auto& f : s["findings"]) {
              absl::StrAppend(&ids, ids.empty() ? "" : " ", JsonString(f, "id"));
            }
          }
          fprintf(io.out, "  %-20s %s:%lld %s  %s\n", Printable(JsonString(s, "client")).c_str(),
                  Printable(JsonString(s, "ip")).c_str(),
                  static_cast<long long>(JsonInt(s, "port")),
                  Printable(JsonString(s, "name")).c_str(),
                  ids.empty() ? "(no findings)" : Printable(ids).c_str());
        }
      }
    }
  } else if (absl::IsNotFound(c.status())) {
    fprintf(io.out, "CLM:         none (ers login configures one)\n");
  } else {
    return ReportError(io, c.status());
  }
  Spool spool(SpoolDir(*path));
  absl::StatusOr<std::vector<std::string>> pending = spool.Pending();
  if (!pending.ok()) return ReportError(io, pending.status());
  fprintf(io.out, "spool:       %zu batch(es), %llu bytes in %s\n", pending->size(),
          static_cast<unsigned long long>(spool.Bytes()), spool.dir().c_str());
  absl::StatusOr<std::vector<Spool::RejectedBatch>> rejected = spool.Rejected();
  if (!rejected.ok()) return ReportError(io, rejected.status());
  if (!rejected->empty()) {
    fprintf(io.out, "rejected:    %zu batch(es) the CLM refused (ers push --retry-rejected "
                    "sends them again):\n", rejected->size());
    for (const Spool::RejectedBatch& r : *rejected) {
      fprintf(io.out, "  %s: %s\n", r.file.substr(r.file.rfind('/') + 1).c_str(),
              Printable(r.reason).c_str());
    }
  }
  return kExitOk;
}

int RunPush(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db;
  PushFlags push_flags;
  bool retry_rejected = false;
  FlagSet flags("push");
  AddPushFlags(flags, &push_flags);
  flags.Bool("retry-rejected", "first put the batches the CLM refused back in the queue",
             &retry_rejected);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, "Usage: ers push [flags]\n\nSpools "
                    "the runs not spooled yet (a scan killed first, a spool that was full), "
                    "then sends the spooled batches to the CLM, oldest first; each is removed "
                    "once the CLM acknowledged it by its id. A batch the CLM refuses for good "
                    "is set aside (ers status lists it).\n\nFlags:\n", io)) {
    return *done;
  }
  PushOptions options;
  ApplyPushFlags(push_flags, &options);
  absl::StatusOr<std::string> path = DbPath(db);
  if (!path.ok()) return ReportError(io, path.status());
  absl::StatusOr<Credentials> c = LoadCredentials(CredentialsPath(*path));
  if (!c.ok()) return ReportError(io, c.status());
  absl::StatusOr<std::unique_ptr<Inventory>> inventory = Inventory::Open(*path);
  if (!inventory.ok()) return ReportError(io, inventory.status());
  // With no scan running (the lock is free), a run still marked running
  // was killed: it is then spooled with what it recorded. While a scan
  // runs, that scan spools; this push only sends.
  absl::StatusOr<ScanLock> lock = ScanLock::Acquire(*path);
  if (lock.ok()) {
    if (absl::Status s = (*inventory)->MarkKilledRuns(); !s.ok()) return ReportError(io, s);
  }
  Spool spool(SpoolDir(*path), push_flags.SpoolMaxBytes());
  if (retry_rejected) {
    absl::StatusOr<int> back = spool.RetryRejected();
    if (!back.ok()) return ReportError(io, back.status());
    fprintf(io.out, "%d rejected batch(es) back in the queue\n", *back);
  }
  absl::Status error;
  bool all_spooled = true;
  PushReport report =
      PushAll(*c, **inventory, spool, options, io, &error, &all_spooled, lock.ok());
  if (!error.ok()) return ReportError(io, error);
  fprintf(io.out, "pushed %d batch(es)%s; %d still spooled%s\n", report.sent,
          report.duplicates > 0
              ? absl::StrCat(" (", report.duplicates, " already stored by the CLM)").c_str()
              : "",
          report.remaining,
          report.rejected > 0
              ? absl::StrCat("; ", report.rejected, " refused by the CLM and set aside").c_str()
              : "");
  if (report.remaining > 0 || report.rejected > 0 || !all_spooled) {
    if (!report.error.empty()) fprintf(io.err, "ers: %s\n", Printable(report.error).c_str());
    return report.fix_needed ? kExitUsage : kExitPartial;
  }
  return kExitOk;
}

}  // namespace ers

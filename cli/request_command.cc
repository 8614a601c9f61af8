// request_command.cc: ers request and ers renew, certificates from the
// CLM. The key is made here (enroll/) and written owner-only before
// anything is sent; only the CSR travels. Each request is saved in the
// inventory under a request id of ers's choosing before it is submitted,
// so a client killed mid-request submits the same request again, which
// the CLM answers as the same request (never a second certificate).
#include <fcntl.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <ctime>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "base/files.h"
#include "base/printable.h"
#include "base/private_files.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "enroll/csr.h"
#include "enroll/key.h"
#include "inventory/cert_requests.h"
#include "inventory/config_store.h"
#include "inventory/queries.h"
#include "upload/credentials.h"
#include "upload/uploader.h"
#include "x509/certificate.h"

namespace ers {
namespace {

constexpr const char* kRequestHelp = R"(Usage: ers request --cn NAME [--san LIST] [--key TYPE] [--days N] [--out DIR] [--wait DURATION]
       ers request --status ID [--wait DURATION]

Requests a certificate from the CLM (ers login) as this client. The key
is generated here with BoringSSL and written owner-only (0600) to
DIR/NAME.key before anything is sent; only a PKCS#10 CSR (DIR/NAME.csr)
goes to the CLM. The CLM judges the request under this client's policy and
issues it at once or holds it for approval. An issued certificate is
written next to the key: DIR/NAME.crt (the certificate), DIR/NAME.chain.pem
(the CA chain) and DIR/NAME.fullchain.pem (both, as TLS servers load them).

Each request has an id that ers chooses and saves in the inventory before
sending it: running the same ers request again after a crash or a lost
answer submits the same request (the same key and CSR), which the CLM
answers as the same request. A held request: ers request --status ID asks
again (and writes the files once issued); --wait keeps asking.

Names: --cn is the subject's common name (a DNS name, *.name, or an IP
address) and is always among the subjectAltNames; --san adds more, comma
separated. The CLM's refusal (names outside the policy, a key type it does
not allow) is printed as the CLM words it.

Exit codes: 0 issued, 3 held (or the CLM did not answer: run it again),
1 refused, 2 usage.

Examples:
  ers request --cn web.example.com --san www.example.com,10.0.0.5
  ers request --cn mail.example.com --key rsa-3072 --out /etc/ssl/ers --wait 10m
  ers request --status 3f1c0a...

Flags:
)";

constexpr const char* kRenewHelp = R"(Usage: ers renew [--within DURATION] [--key TYPE] [--out DIR] [--dry-run]

Requests new certificates, with the same names, for the certificates that
expire within --within (default 30 days, expired ones included):
  - those ers request issued to this client (the files are written next to
    the old ones as NAME-YYYYMMDD.*, the old ones left in place), and
  - the leaves that the newest configured sweep found on an endpoint of the
    inventory (written to --out, default ./renewed), their names read from
    the certificate's subjectAltNames.
Each renewal gets a new key (of --key, default: the old request's type,
else ec-p256) and is a request of its own (ers request explains the
files, the waiting and the refusals). --dry-run lists what would be
requested.

Exit codes: 0 every renewal issued (or nothing to renew), 3 some held,
refused or unanswered, 2 usage.

Examples:
  ers renew --dry-run
  ers renew --within 14d --out /etc/ssl/renewed

Flags:
)";

// FileBase is DIR/NAME, absolute, for the files of a certificate for |cn|.
std::string FileBase(const std::string& dir, const std::string& cn) {
  std::string name;
  for (char c : cn) {
    name += c == '*' ? std::string("wildcard") : c == ':' ? std::string("_") : std::string(1, c);
  }
  return AbsolutePath(absl::StrCat(dir.empty() ? "." : dir, "/", name));
}

absl::Status WriteKeyFile(const std::string& path, const std::string& pem) {
  if (absl::Status s = EnsureParentDirectory(path); !s.ok()) return s;
  absl::StatusOr<int> fd = OpenPrivateFile(path, O_CREAT | O_EXCL);
  if (!fd.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create ", path, " (", fd.status().message(),
        "): a key is never overwritten; choose another --out or remove it"));
  }
  size_t done = 0;
  while (done < pem.size()) {
    const ssize_t n = write(*fd, pem.data() + done, pem.size() - done);
    if (n <= 0) {
      close(*fd);
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = fsync(*fd) == 0;
  close(*fd);
  if (!synced) return absl::InternalError(absl::StrCat("cannot fsync ", path));
  return absl::OkStatus();
}

// LeafFromPem parses the first certificate of |pem|.
bssl::UniquePtr<X509> LeafFromPem(const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
  return bssl::UniquePtr<X509>(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                   : nullptr);
}

// Client is one command's connection to the CLM and the inventory.
struct Client {
  Credentials credentials;
  std::unique_ptr<Inventory> inventory;
  const Streams* io = nullptr;
};

// RequestOutcome is what became of one request.
enum class RequestOutcome { kIssued, kPending, kRefused, kUnanswered };

// WriteCertificate checks that the CLM's certificate is for the key in
// BASE.key and writes BASE.crt, BASE.chain.pem, BASE.fullchain.pem.
absl::Status WriteCertificate(CertRequestRecord* r, const std::string& certificate_pem,
                              const std::string& chain_pem) {
  bssl::UniquePtr<X509> leaf = LeafFromPem(certificate_pem);
  if (!leaf) return absl::DataLossError("the CLM's certificate is not PEM");
  absl::StatusOr<std::string> key_pem = ReadSmallFile(r->files + ".key");
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = ReadPrivateKeyPem(*key_pem);
  if (!key.ok() || X509_check_private_key(leaf.get(), key->get()) != 1) {
    return absl::DataLossError(absl::StrCat("the CLM's certificate is not for the key in ",
                                            r->files, ".key: not written"));
  }
  uint8_t* der = nullptr;
  const int len = i2d_X509(leaf.get(), &der);
  if (len <= 0) return absl::DataLossError("the CLM's certificate does not encode");
  r->certificate_sha256 = Sha256Hex(absl::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  for (const auto& [suffix, contents] : std::vector<std::pair<const char*, std::string>>{
           {".crt", certificate_pem},
           {".chain.pem", chain_pem},
           {".fullchain.pem", certificate_pem + chain_pem}}) {
    if (absl::Status s = WriteFileAtomically(r->files + suffix, contents, 0644); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Apply records the CLM's |reply| (HTTP |status|) to |r| and writes the
// certificate when it is issued.
RequestOutcome Apply(Client& client, CertRequestRecord* r, long status, const std::string& body) {
  const Streams& io = *client.io;
  const nlohmann::json reply = nlohmann::json::parse(body, nullptr, false);
  const std::string state = reply.is_object() ? reply.value("status", "") : "";
  if (reply.is_object() && reply.contains("id") && reply["id"].is_number_integer()) {
    r->clm_id = reply["id"].get<int64_t>();
  }
  RequestOutcome outcome = RequestOutcome::kUnanswered;
  if (status >= 200 && status < 300 && state == "issued") {
    const std::string certificate = reply.value("certificate", "");
    if (absl::Status s = WriteCertificate(r, certificate, reply.value("chain", "")); !s.ok()) {
      fprintf(io.err, "ers: %s\n", std::string(s.message()).c_str());
      return RequestOutcome::kUnanswered;
    }
    r->status = "issued";
    r->serial = reply.value("serial", "");
    if (reply.contains("not_after") && reply["not_after"].is_number_integer()) {
      r->not_after = reply["not_after"].get<int64_t>();
    }
    outcome = RequestOutcome::kIssued;
  } else if (status >= 200 && status < 300 && state == "pending") {
    r->status = "pending";
    outcome = RequestOutcome::kPending;
  } else if ((status >= 400 && status < 500 && status != 408 && status != 429) ||
             state == "rejected") {
    r->status = "rejected";
    r->reason = reply.is_object() && reply.contains("error") && reply["error"].is_string()
                    ? reply["error"].get<std::string>()
                    : reply.is_object() ? reply.value("reason", "") : "";
    if (r->reason.empty()) r->reason = absl::StrCat("HTTP ", status);
    outcome = RequestOutcome::kRefused;
    // The key was made for this request alone and no certificate is for
    // it: it goes, so that a corrected request can use the name.
    unlink((r->files + ".key").c_str());
    unlink((r->files + ".csr").c_str());
  }
  if (outcome == RequestOutcome::kUnanswered) return outcome;
  if (absl::Status s = SaveCertRequest(*client.inventory, *r); !s.ok()) {
    fprintf(io.err, "ers: %s\n", std::string(s.message()).c_str());
  }
  return outcome;
}

// Submit sends |r|'s CSR (at most 3 attempts, 1 and 2 s apart, when the CLM
// does not answer) and applies the answer.
RequestOutcome Submit(Client& client, CertRequestRecord* r, const std::string& csr_pem) {
  nlohmann::json body = {{"request_id", r->request_id}, {"csr", csr_pem}};
  if (r->days > 0) body["days"] = r->days;
  PushOptions options;
  options.timeout_ms = 30000;
  PostResult result;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(attempt));
    result = PostJson(client.credentials, "/api/v1/certificate-requests", body.dump(),
                      r->request_id, options);
    if (result.result != PushClass::kRetry) break;
  }
  if (result.result == PushClass::kRetry) {
    fprintf(client.io->err, "ers: %s\n", Printable(result.message).c_str());
    return RequestOutcome::kUnanswered;
  }
  return Apply(client, r, result.http_status, result.body);
}

// Ask fetches |r|'s state from the CLM, and keeps asking every 2 s until
// |deadline| while it is held.
RequestOutcome Ask(Client& client, CertRequestRecord* r, absl::Time deadline) {
  PushOptions options;
  options.timeout_ms = 30000;
  for (;;) {
    PostResult result = GetJson(
        client.credentials, absl::StrCat("/api/v1/certificate-requests/", r->request_id), options);
    RequestOutcome outcome = RequestOutcome::kUnanswered;
    if (result.result == PushClass::kRetry) {
      fprintf(client.io->err, "ers: %s\n", Printable(result.message).c_str());
    } else {
      outcome = Apply(client, r, result.http_status, result.body);
      if (outcome != RequestOutcome::kPending) return outcome;
    }
    if (absl::Now() + absl::Seconds(2) > deadline) return outcome;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

// Day formats |unix_seconds| as a UTC date in |format| ("%Y-%m-%d").
std::string Day(int64_t unix_seconds, const char* format = "%Y-%m-%d") {
  char text[32];
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(text, sizeof(text), format, &tm);
  return text;
}

// Report prints one line for |r| and returns its exit code.
int Report(const Streams& io, const CertRequestRecord& r, RequestOutcome outcome) {
  switch (outcome) {
    case RequestOutcome::kIssued:
      fprintf(io.out, "issued: %s (%s), serial %s, expires %s\n  key %s.key, certificate %s.crt, "
              "chain %s.chain.pem, both %s.fullchain.pem\n",
              r.common_name.c_str(), absl::StrJoin(r.names, ",").c_str(), r.serial.c_str(),
              Day(r.not_after).c_str(), r.files.c_str(), r.files.c_str(), r.files.c_str(),
              r.files.c_str());
      return kExitOk;
    case RequestOutcome::kPending:
      fprintf(io.out, "held for approval: request %s (%s); ers request --status %s asks again\n",
              r.request_id.c_str(), r.common_name.c_str(), r.request_id.c_str());
      return kExitPartial;
    case RequestOutcome::kRefused:
      fprintf(io.err, "ers: the CLM refused the request for %s: %s\n", r.common_name.c_str(),
              Printable(r.reason).c_str());
      return kExitFatal;
    case RequestOutcome::kUnanswered:
      fprintf(io.err, "ers: no answer for request %s (%s) yet: ers request (or --status %s) "
              "again submits the same request\n",
              r.request_id.c_str(), r.common_name.c_str(), r.request_id.c_str());
      return kExitPartial;
  }
  return kExitFatal;
}

absl::StatusOr<Client> Connect(const std::optional<std::string>& db, const Streams& io) {
  Client client;
  client.io = &io;
  absl::StatusOr<std::string> path = db.has_value() ? *db : DefaultDatabasePath();
  if (!path.ok()) return path.status();
  absl::StatusOr<Credentials> credentials = LoadCredentials(CredentialsPath(*path));
  if (!credentials.ok()) return credentials.status();
  client.credentials = *std::move(credentials);
  absl::StatusOr<std::unique_ptr<Inventory>> inventory = OpenInventory(db);
  if (!inventory.ok()) return inventory.status();
  client.inventory = *std::move(inventory);
  return client;
}

// NewRequest makes the key and CSR of a new request for |names| at |files|
// and saves the request before anything is sent.
absl::StatusOr<std::string> NewRequest(Client& client, const RequestNames& names, EnrollKeyType key_type,
                                       int days, const std::string& files,
                                       const std::string& renews, CertRequestRecord* r) {
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = GenerateKey(key_type);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> key_pem = PrivateKeyPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  if (absl::Status s = WriteKeyFile(files + ".key", *key_pem); !s.ok()) return s;
  absl::StatusOr<std::string> csr = BuildCsr(names, key->get());
  if (!csr.ok()) return csr.status();
  if (absl::Status s = WriteFileAtomically(files + ".csr", *csr, 0644); !s.ok()) return s;
  r->request_id = RandomHex(16);
  r->common_name = names.common_name;
  r->names = NameStrings(names);
  r->key_type = EnrollKeyTypeName(key_type);
  r->days = days;
  r->files = files;
  r->status = "new";
  r->renews = renews;
  if (absl::Status s = SaveCertRequest(*client.inventory, *r); !s.ok()) return s;
  return *csr;
}

}  // namespace

int RunRequest(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> cn, san, key_flag, out, status_id, db;
  std::optional<uint64_t> days;
  std::optional<absl::Duration> wait;
  FlagSet flags("request");
  flags.String("cn", "NAME", "the subject's common name (a DNS name, *.name or an address)", &cn);
  flags.String("san", "LIST", "more subjectAltNames, comma separated (DNS names, addresses)",
               &san);
  flags.String("key", "TYPE", "ec-p256 (default), ec-p384, rsa-2048 or rsa-3072", &key_flag);
  flags.Count("days", "validity asked for (default: the longest the CLM allows)", 1, 825, &days);
  flags.String("out", "DIR", "where NAME.key, .csr, .crt, .chain.pem and .fullchain.pem go "
               "(default: the current directory)", &out);
  flags.String("status", "ID", "ask the CLM about request ID again (writes the files once issued)",
               &status_id);
  flags.Duration("wait", "keep asking a held request this long (default: ask once)",
                 absl::Seconds(1), absl::Hours(72), &wait);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kRequestHelp, io)) return *done;
  if (status_id.has_value() == cn.has_value()) {
    return ReportError(io, absl::InvalidArgumentError(
                               "give --cn NAME (a new request) or --status ID (an earlier one)"));
  }
  if (status_id.has_value() && (san || key_flag || out || days)) {
    return ReportError(io, absl::InvalidArgumentError(
                               "--status takes only --wait: the request's names, key and files "
                               "were chosen when it was made"));
  }
  absl::StatusOr<Client> client = Connect(db, io);
  if (!client.ok()) return ReportError(io, client.status());
  const absl::Time deadline = absl::Now() + wait.value_or(absl::ZeroDuration());

  if (status_id.has_value()) {
    absl::StatusOr<std::optional<CertRequestRecord>> found =
        FindCertRequest(*client->inventory, *status_id);
    if (!found.ok()) return ReportError(io, found.status());
    if (!found->has_value()) {
      return ReportError(io, absl::NotFoundError(absl::StrCat(
                                 "no request ", *status_id, " in this inventory (ers request "
                                 "--cn makes one)")));
    }
    CertRequestRecord r = **found;
    if (r.status == "issued" || r.status == "rejected") {
      return Report(io, r, r.status == "issued" ? RequestOutcome::kIssued : RequestOutcome::kRefused);
    }
    return Report(io, r, Ask(*client, &r, deadline));
  }

  absl::StatusOr<RequestNames> names = ParseRequestNames(*cn, san.value_or(""));
  if (!names.ok()) return ReportError(io, names.status());
  absl::StatusOr<EnrollKeyType> key_type = ParseEnrollKeyType(key_flag.value_or("ec-p256"));
  if (!key_type.ok()) return ReportError(io, key_type.status());
  const std::string files = FileBase(out.value_or("."), names->common_name);
  const int request_days = static_cast<int>(days.value_or(0));

  // A request for these files that has no answer yet is submitted again,
  // the same: that is how a crash or a lost answer ends in one request.
  absl::StatusOr<std::optional<CertRequestRecord>> open =
      OpenCertRequestFor(*client->inventory, files);
  if (!open.ok()) return ReportError(io, open.status());
  CertRequestRecord r;
  std::string csr;
  if (open->has_value()) {
    r = **open;
    if (r.names != NameStrings(*names) || r.key_type != EnrollKeyTypeName(*key_type) ||
        r.days != request_days) {
      return ReportError(io, absl::FailedPreconditionError(absl::StrCat(
                                 "request ", r.request_id, " for ", files, " (",
                                 absl::StrJoin(r.names, ","), ", ", r.key_type,
                                 ") has no final answer yet: ers request --status ", r.request_id,
                                 ", or another --out for other names")));
    }
    absl::StatusOr<std::string> saved = ReadSmallFile(files + ".csr");
    if (!saved.ok()) return ReportError(io, saved.status());
    csr = *saved;
    fprintf(io.err, "ers: submitting request %s again (made %s)\n", r.request_id.c_str(),
            r.status == "new" ? "before, unanswered" : "before, held");
  } else {
    absl::StatusOr<std::string> made =
        NewRequest(*client, *names, *key_type, request_days, files, "", &r);
    if (!made.ok()) return ReportError(io, made.status());
    csr = *made;
  }
  RequestOutcome outcome = Submit(*client, &r, csr);
  if (outcome == RequestOutcome::kPending && wait.has_value()) outcome = Ask(*client, &r, deadline);
  return Report(io, r, outcome);
}

int RunRenew(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> key_flag, out, db;
  std::optional<absl::Duration> within;
  bool dry_run = false;
  FlagSet flags("renew");
  flags.Duration("within", "renew what expires within this long (default 30d)", absl::Hours(1),
                 absl::Hours(24 * 825), &within);
  flags.String("key", "TYPE", "the new keys' type (default: the old request's, else ec-p256)",
               &key_flag);
  flags.String("out", "DIR", "where renewals of certificates found by scans go (default "
               "./renewed)", &out);
  flags.Bool("dry-run", "list what would be requested, request nothing", &dry_run);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kRenewHelp, io)) return *done;
  std::optional<EnrollKeyType> key_override;
  if (key_flag.has_value()) {
    absl::StatusOr<EnrollKeyType> k = ParseEnrollKeyType(*key_flag);
    if (!k.ok()) return ReportError(io, k.status());
    key_override = *k;
  }
  absl::StatusOr<Client> client = Connect(db, io);
  if (!client.ok()) return ReportError(io, client.status());
  Inventory& inv = *client->inventory;
  const int64_t now = time(nullptr);
  const int64_t horizon = now + absl::ToInt64Seconds(within.value_or(absl::Hours(24 * 30)));
  const std::string date = Day(now, "%Y%m%d");

  // Candidates: what ers request issued here, then what the newest sweep found.
  struct Candidate {
    std::string what;       // for people
    RequestNames names;
    EnrollKeyType key = EnrollKeyType::kEcP256;
    std::string files;
    std::string renews;
    int64_t not_after = 0;
  };
  std::vector<Candidate> candidates;
  absl::StatusOr<std::vector<CertRequestRecord>> requests = CertRequests(inv);
  if (!requests.ok()) return ReportError(io, requests.status());
  std::set<std::string> covered;  // certificates already renewed or being renewed
  for (const CertRequestRecord& r : *requests) {
    if (!r.renews.empty() && r.status != "rejected") covered.insert(r.renews);
  }
  for (const CertRequestRecord& r : *requests) {
    if (r.status != "issued" || r.not_after > horizon || covered.count(r.certificate_sha256)) {
      continue;
    }
    Candidate c;
    c.what = absl::StrCat("requested ", r.common_name, " (request ", r.request_id.substr(0, 8), ")");
    std::vector<std::string> rest(r.names.begin(), r.names.end());
    rest.erase(std::remove(rest.begin(), rest.end(), r.common_name), rest.end());
    absl::StatusOr<RequestNames> names = ParseRequestNames(r.common_name, absl::StrJoin(rest, ","));
    if (!names.ok()) continue;
    c.names = *names;
    absl::StatusOr<EnrollKeyType> old_key = ParseEnrollKeyType(r.key_type);
    c.key = key_override.value_or(old_key.ok() ? *old_key : EnrollKeyType::kEcP256);
    c.files = absl::StrCat(r.files, "-", date);
    c.renews = r.certificate_sha256;
    c.not_after = r.not_after;
    covered.insert(r.certificate_sha256);
    candidates.push_back(std::move(c));
  }
  absl::StatusOr<int64_t> run = LatestConfiguredRun(inv);
  if (!run.ok()) return ReportError(io, run.status());
  if (*run != 0) {
    absl::StatusOr<std::vector<LeafSummary>> leaves = RunLeaves(inv, *run);
    if (!leaves.ok()) return ReportError(io, leaves.status());
    for (const LeafSummary& leaf : *leaves) {
      if (leaf.not_after > horizon || covered.count(leaf.sha256) || leaf.endpoints.empty()) {
        continue;
      }
      absl::StatusOr<std::string> der = CertificateDer(inv, leaf.sha256);
      if (!der.ok() || der->empty()) continue;
      absl::StatusOr<Certificate> cert = ParseCertificate(*der);
      if (!cert.ok()) continue;
      std::vector<std::string> sans = cert->dns_names;
      sans.insert(sans.end(), cert->ip_addresses.begin(), cert->ip_addresses.end());
      const std::string cn = !cert->subject_cn.empty() ? cert->subject_cn
                             : !sans.empty()           ? sans[0]
                                                       : "";
      absl::StatusOr<RequestNames> names = ParseRequestNames(cn, absl::StrJoin(sans, ","));
      if (!names.ok()) {
        fprintf(io.err, "ers: %s on %s: no names to request (%s)\n", leaf.subject_cn.c_str(),
                leaf.endpoints[0].ToString().c_str(), std::string(names.status().message()).c_str());
        continue;
      }
      Candidate c;
      c.what = absl::StrCat("found on ", leaf.endpoints[0].ToString(),
                            leaf.endpoints.size() > 1
                                ? absl::StrCat(" and ", leaf.endpoints.size() - 1, " more")
                                : "");
      c.names = *names;
      c.key = key_override.value_or(EnrollKeyType::kEcP256);
      c.files = FileBase(out.value_or("renewed"), names->common_name);
      c.renews = leaf.sha256;
      c.not_after = leaf.not_after;
      covered.insert(leaf.sha256);
      candidates.push_back(std::move(c));
    }
  }
  if (candidates.empty()) {
    fprintf(io.out, "nothing to renew: no certificate expires before %s\n", Day(horizon).c_str());
    return kExitOk;
  }
  int exit_code = kExitOk;
  for (Candidate& c : candidates) {
    fprintf(io.out, "%s %s (%s), %s %s, %s key -> %s.*\n", dry_run ? "would renew" : "renewing",
            c.names.common_name.c_str(), absl::StrJoin(NameStrings(c.names), ",").c_str(),
            c.not_after < now ? "expired" : "expires", Day(c.not_after).c_str(), EnrollKeyTypeName(c.key),
            c.files.c_str());
    fprintf(io.out, "  %s\n", c.what.c_str());
    if (dry_run) continue;
    CertRequestRecord r;
    absl::StatusOr<std::string> csr = NewRequest(*client, c.names, c.key, 0, c.files, c.renews, &r);
    if (!csr.ok()) {
      fprintf(io.err, "ers: %s\n", std::string(csr.status().message()).c_str());
      exit_code = kExitPartial;
      continue;
    }
    if (Report(io, r, Submit(*client, &r, *csr)) != kExitOk) exit_code = kExitPartial;
  }
  return exit_code;
}

}  // namespace ers

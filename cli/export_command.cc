// export_command.cc: `ers export`, the inventory's certificates as PEM, or
// the latest scan's TLS endpoints as CSV.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>


#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/printable.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "inventory/inventory.h"
#include "inventory/queries.h"
#include "x509/findings.h"

namespace ers {
namespace {

constexpr const char* kExportHelp = R"(Usage: ers export --pem|--csv [flags]

--pem writes the certificates found by the newest configured sweep
(leaves and the chains served), or by run N with --run N, or every
certificate in the inventory with --all, as PEM. --csv writes one row per
TLS endpoint of that run. ers runs lists the runs.

Examples:
  ers export --pem --output found.pem
  ers export --pem --all > inventory.pem
  ers export --csv --output endpoints.csv
  ers export --csv --run 12

Flags:
)";

std::string Pem(const std::string& der) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(der.data());
  bssl::UniquePtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) return "";
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), x509.get())) return "";
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

}  // namespace

int RunExport(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db, output;
  bool pem = false, csv = false, all = false;
  std::optional<uint64_t> run_flag;
  FlagSet flags("export");
  flags.Bool("pem", "certificates as PEM", &pem);
  flags.Bool("csv", "TLS endpoints of the latest scan as CSV", &csv);
  flags.Bool("all", "with --pem: every certificate ever found", &all);
  flags.String("output", "PATH", "write here instead of standard output", &output);
  flags.Count("run", "export run N (default: the newest configured sweep)", 1, INT64_MAX,
              &run_flag);
  AddDbFlag(flags, &db);
  if (std::optional<int> done = ParseCommandFlags(flags, args, kExportHelp, io)) {
    return *done;
  }
  if (pem == csv) {
    return ReportError(io, absl::InvalidArgumentError(
                               "ers export: give exactly one of --pem and --csv"));
  }
  absl::StatusOr<std::unique_ptr<Inventory>> inv = OpenExistingInventory(db);
  if (!inv.ok()) return ReportError(io, inv.status());
  int64_t run = 0;
  if (run_flag.has_value()) {
    absl::StatusOr<RunInfo> info = (*inv)->Run(static_cast<int64_t>(*run_flag));
    if (!info.ok()) return ReportError(io, info.status());
    run = info->id;
  } else if (!all) {
    absl::StatusOr<int64_t> latest = LatestConfiguredRun(**inv);
    if (!latest.ok()) return ReportError(io, latest.status());
    if (*latest == 0) {
      return ReportError(io, absl::FailedPreconditionError(
                                 "no configured sweep has finished in this inventory yet: run "
                                 "ers scan, or name a run with --run (ers runs lists them)"));
    }
    run = *latest;
  }
  if (all && run_flag.has_value()) {
    return ReportError(io, absl::InvalidArgumentError("--all and --run contradict"));
  }

  FILE* out = io.out;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &fclose);
  if (output.has_value()) {
    file.reset(fopen(output->c_str(), "w"));
    if (!file) {
      return ReportError(io, absl::PermissionDeniedError(absl::StrCat(
                                 "cannot write ", *output, ": ", strerror(errno))));
    }
    out = file.get();
  }
  size_t count = 0;
  absl::Status listed;
  if (pem) {
    listed = ForEachCertificate(**inv, all ? 0 : run, [&](const StoredCertificate& c) {
      std::string block = Pem(c.der);
      if (block.empty()) return;  // unparsable DER has no PEM form
      // A subject with a line break must not write PEM of its own.
      fprintf(out, "# %s\n%s", Printable(c.subject).c_str(), block.c_str());
      ++count;
    });
  } else {
    fprintf(out,
            "ip,port,name,sni,tls_version,cipher,leaf_sha256,subject_cn,issuer_cn,"
            "issuer_org,not_after,days_left,trusted,findings,starttls\r\n");
    const int64_t now = time(nullptr);
    listed = ForEachEndpoint(**inv, run, [&](const EndpointRow& e) {
      std::vector<std::string> row = {
          e.endpoint.ip, absl::StrCat(e.endpoint.port), e.endpoint.name, e.sni,
          e.tls_version, e.cipher, e.leaf_sha256, e.subject_cn, e.issuer_cn, e.issuer_org,
          e.not_after ? absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(e.not_after),
                                         absl::UTCTimeZone())
                      : "",
          e.not_after ? absl::StrCat(DaysLeft(e.not_after, now)) : "", e.trusted ? "yes" : "no",
          absl::StrJoin(e.finding_ids, ";"), e.starttls};
      std::vector<std::string> quoted;
      for (const std::string& f : row) quoted.push_back(CsvCell(f));  // no formulas
      fprintf(out, "%s\r\n", absl::StrJoin(quoted, ",").c_str());
      ++count;
    });
  }
  if (!listed.ok()) return ReportError(io, listed);
  if (fflush(out) != 0 || ferror(out)) {
    return ReportError(io, absl::DataLossError("ers export: write failed"));
  }
  if (output.has_value()) {
    fprintf(io.err, "ers: wrote %zu %s to %s\n", count,
            pem ? "certificates" : "endpoints", output->c_str());
  }
  return kExitOk;
}

}  // namespace ers

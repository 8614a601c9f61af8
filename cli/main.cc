// main.cc: the ers program. Dispatches to the subcommands in commands.h.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kUsage = R"(ers: find every TLS endpoint and certificate in your networks

Usage:
  ers discover [--servers LIST] [--ips LIST] [--ports LIST] ...
                                   configure what to scan (repeatable)
  ers scan [--dry-run] ...         scan what was discovered (into the inventory)
  ers report [--json]              expiry, findings, issuers, changes
  ers export --pem|--csv           certificates as PEM, endpoints as CSV
  ers import FILE.jsonl...         results of ers scan --output into the inventory
  ers login --url URL ...          configure the CLM and this client's credential
  ers logout                       forget them
  ers status                       the CLM, this client's identity, the spool
  ers push                         send spooled batches to the CLM
  ers <command> --help             flags and examples of one command
  ers --version

Examples:
  ers discover --servers mail.example.com
  ers discover --servers "mail.example.com,web.example.com" --ports "8443,9443"
  ers discover --servers server1.example.com --ports "8000-9000,9443"
  ers discover --ips 198.51.100.0/24 --ports "8000-9000"
  ers scan

Without --ports, servers and ranges get the default ports: 443 (web),
465 (SMTP), 636 (LDAP), 853 (DNS), 989 and 990 (FTP), 992 (Telnet),
993 (IMAP), 995 (POP).

The configuration and inventory live in one SQLite file: --db PATH, else
$ERS_DB, else $XDG_DATA_HOME/ers/ers.db, else ~/.local/share/ers/ers.db.

Exit codes: 0 ok; 1 fatal error; 2 usage or configuration error;
3 partial failure (some targets could not be scanned).
)";

}  // namespace

int main(int argc, char** argv) {
  ers::Streams io;
  if (argc < 2) {
    fputs(kUsage, io.err);
    return ers::kExitUsage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    fputs(kUsage, io.out);
    return ers::kExitOk;
  }
  if (command == "--version" || command == "version") {
    fprintf(io.out, "ers %s\n", kVersion);
    return ers::kExitOk;
  }
  if (command == "discover") return ers::RunDiscover(args, io);
  if (command == "scan") return ers::RunScan(args, io);
  if (command == "report") return ers::RunReport(args, io);
  if (command == "export") return ers::RunExport(args, io);
  if (command == "login") return ers::RunLogin(args, io);
  if (command == "logout") return ers::RunLogout(args, io);
  if (command == "status") return ers::RunStatus(args, io);
  if (command == "push") return ers::RunPush(args, io);
  if (command == "import") return ers::RunImport(args, io);
  fprintf(io.err, "ers: unknown command \"%s\" (try ers --help)\n",
          command.c_str());
  return ers::kExitUsage;
}

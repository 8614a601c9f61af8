// main.cc: the ers program. One table names every subcommand: its
// synopsis for ers --help and the function that runs it (commands.h).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/last_resort.h"
#include "cli/commands.h"

namespace {

constexpr const char* kVersion = "0.1.0";

struct Command {
  const char* name;
  const char* synopsis;  // after "ers NAME"
  const char* summary;
  int (*run)(const std::vector<std::string>& args, const ers::Streams& io);
};

constexpr Command kCommands[] = {
    {"discover", "[--servers LIST] [--ips LIST] [--ports LIST] ...",
     "configure what to scan (repeatable)", ers::RunDiscover},
    {"scan", "[--dry-run] ...", "scan what was discovered (into the inventory)", ers::RunScan},
    {"report", "[--run N] [--since N] [--json]", "expiry, findings, issuers, changes",
     ers::RunReport},
    {"export", "--pem|--csv", "certificates as PEM, endpoints as CSV", ers::RunExport},
    {"runs", "[--limit N] [--json]", "the history: every scan, ad-hoc scan and import",
     ers::RunRuns},
    {"import", "FILE.jsonl...", "results of ers scan --output into the inventory",
     ers::RunImport},
    {"login", "--url URL ...", "configure the CLM and this client's credential", ers::RunLogin},
    {"logout", "", "forget them", ers::RunLogout},
    {"status", "", "the CLM, this client's identity, the spool", ers::RunStatus},
    {"push", "", "send spooled batches to the CLM", ers::RunPush},
};

constexpr const char* kUsageTail = R"(  ers <command> --help             flags and examples of one command
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
3 partial (targets lost to local errors, a stopped run, undelivered
batches); 4 a finding at or above --fail-on SEVERITY.
)";

std::string Usage() {
  std::string out = "ers: find every TLS endpoint and certificate in your networks\n\nUsage:\n";
  for (const Command& c : kCommands) {
    std::string left = std::string("  ers ") + c.name + (*c.synopsis ? " " : "") + c.synopsis;
    if (left.size() >= 35) {
      left += "\n" + std::string(35, ' ');
    } else {
      left.resize(35, ' ');
    }
    out += left + c.summary + "\n";
  }
  return out + kUsageTail;
}

}  // namespace

int main(int argc, char** argv) {
  ers::InstallLastResortHandler("ers");
  ers::Streams io;
  if (argc < 2) {
    fputs(Usage().c_str(), io.err);
    return ers::kExitUsage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    fputs(Usage().c_str(), io.out);
    return ers::kExitOk;
  }
  if (command == "--version" || command == "version") {
    fprintf(io.out, "ers %s\n", kVersion);
    return ers::kExitOk;
  }
  for (const Command& c : kCommands) {
    if (command == c.name) return c.run(args, io);
  }
  fprintf(io.err, "ers: unknown command \"%s\" (try ers --help)\n",
          command.c_str());
  return ers::kExitUsage;
}

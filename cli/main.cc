// main.cc: the ers program. One table names every subcommand: its
// synopsis for ers --help and the function that runs it (commands.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/last_resort.h"
#include "base/version.h"
#include "cli/commands.h"
#include "cli/manual.h"

namespace {

using ers::kVersion;

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
    {"request", "--cn NAME [--san LIST] ...", "a new key and certificate from the CLM",
     ers::RunRequest},
    {"renew", "[--within 30d] [--dry-run]", "new certificates for those about to expire",
     ers::RunRenew},
};

constexpr const char* kUsageTail = R"(  ers help <command>               flags and examples of one command
                                   (also ers <command> --help)
  ers manpage [<command>]          the manual page (troff), as installed
  ers completion bash|zsh          a shell completion script
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

// CommandHelp returns what `ers NAME --help` prints.
std::string CommandHelp(const Command& c) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* mem = open_memstream(&buf, &len);
  if (mem == nullptr) return "";
  ers::Streams io{mem, mem};
  (void)c.run({"--help"}, io);
  fclose(mem);
  std::string out(buf, len);
  free(buf);
  return out;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::vector<ers::ManualEntry> Entries() {
  std::vector<ers::ManualEntry> out;
  for (const Command& c : kCommands) out.push_back({c.name, c.summary, CommandHelp(c)});
  return out;
}

int UnknownCommand(const ers::Streams& io, const std::string& name) {
  fprintf(io.err, "ers: unknown command \"%s\" (try ers --help)\n", name.c_str());
  return ers::kExitUsage;
}

// Manual prints the man page of |args| (none: of ers itself).
int Manual(const std::vector<std::string>& args, const ers::Streams& io) {
  std::vector<std::string> pages = {"ers"};
  for (const Command& c : kCommands) pages.push_back(std::string("ers-") + c.name);
  if (args.empty()) {
    fputs(ers::ManPage({"", "find every TLS endpoint and certificate in your networks", Usage()},
                       kVersion, pages)
              .c_str(),
          io.out);
    return ers::kExitOk;
  }
  const Command* c = FindCommand(args[0]);
  if (c == nullptr || args.size() > 1) return UnknownCommand(io, args[0]);
  fputs(ers::ManPage({c->name, c->summary, CommandHelp(*c)}, kVersion, {"ers"}).c_str(), io.out);
  return ers::kExitOk;
}

int Completion(const std::vector<std::string>& args, const ers::Streams& io) {
  if (args.size() == 1 && args[0] == "bash") {
    fputs(ers::BashCompletion(Entries()).c_str(), io.out);
    return ers::kExitOk;
  }
  if (args.size() == 1 && args[0] == "zsh") {
    fputs(ers::ZshCompletion(Entries()).c_str(), io.out);
    return ers::kExitOk;
  }
  fprintf(io.err, "Usage: ers completion bash|zsh\n");
  return ers::kExitUsage;
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
  if (command == "--help" || command == "-h" || (command == "help" && args.empty())) {
    fputs(Usage().c_str(), io.out);
    return ers::kExitOk;
  }
  if (command == "help") {
    const Command* c = FindCommand(args[0]);
    if (c == nullptr || args.size() > 1) return UnknownCommand(io, args[0]);
    return c->run({"--help"}, io);
  }
  if (command == "--version" || command == "version") {
    fprintf(io.out, "ers %s\n", kVersion);
    return ers::kExitOk;
  }
  if (command == "manpage") return Manual(args, io);
  if (command == "completion") return Completion(args, io);
  if (const Command* c = FindCommand(command)) return c->run(args, io);
  return UnknownCommand(io, command);
}

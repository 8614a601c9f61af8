// commands.h: the ers subcommands. Each takes its arguments (after the
// subcommand name) and the streams to write to, and returns an exit code;
// only main() exits.
#ifndef ERS_CLI_COMMANDS_H_
#define ERS_CLI_COMMANDS_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ers {

// Exit codes, documented in README.md and `ers --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;    // could not do the job at all
inline constexpr int kExitUsage = 2;    // bad command line or configuration
inline constexpr int kExitPartial = 3;  // done in part: local errors, stopped, undelivered
inline constexpr int kExitFindings = 4;  // --fail-on: a finding of that severity or above

// Streams are where a command writes results (out) and messages (err).
struct Streams {
  FILE* out = stdout;
  FILE* err = stderr;
};

int RunDiscover(const std::vector<std::string>& args, const Streams& io);
int RunScan(const std::vector<std::string>& args, const Streams& io);
int RunReport(const std::vector<std::string>& args, const Streams& io);
int RunExport(const std::vector<std::string>& args, const Streams& io);
int RunLogin(const std::vector<std::string>& args, const Streams& io);
int RunLogout(const std::vector<std::string>& args, const Streams& io);
int RunStatus(const std::vector<std::string>& args, const Streams& io);
int RunPush(const std::vector<std::string>& args, const Streams& io);
int RunRuns(const std::vector<std::string>& args, const Streams& io);
int RunImport(const std::vector<std::string>& args, const Streams& io);
int RunRequest(const std::vector<std::string>& args, const Streams& io);
int RunRenew(const std::vector<std::string>& args, const Streams& io);

// ReportError prints "ers: <message>" and returns the exit code for |status|:
// kExitUsage for what the user fixes in the command line or configuration
// (kInvalidArgument, kNotFound, kFailedPrecondition), kExitFatal otherwise.
int ReportError(const Streams& io, const absl::Status& status);

}  // namespace ers

#endif  // ERS_CLI_COMMANDS_H_

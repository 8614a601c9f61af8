// import_command.cc: `ers import`, JSON Lines results (from ers scan
// --output, another machine's scan, or an older run) into the inventory, as
// a run of their own.
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command_support.h"
#include "cli/commands.h"
#include "base/flags.h"
#include "inventory/inventory.h"

namespace ers {

int RunImport(const std::vector<std::string>& args, const Streams& io) {
  std::optional<std::string> db;
  FlagSet flags("import");
  AddDbFlag(flags, &db);
  std::vector<std::string> files;
  constexpr const char* kHelp =
      "Usage: ers import FILE.jsonl...\n\nImports JSON Lines results (the schema "
      "of ers scan --output) into the inventory as a new run of kind import "
      "(listed by ers runs, reported with ers report --run N, not sent to the "
      "CLM). Lines that do not follow the schema are reported with their number "
      "and reason and skipped (exit 3); a file without one valid line is an "
      "error (exit 2).\n\nFlags:\n";
  if (std::optional<int> done = ParseCommandFlags(flags, args, kHelp, io, &files)) {
    return *done;
  }
  if (files.empty()) {
    fprintf(io.err, "%s%s", kHelp, flags.Usage().c_str());
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Inventory>> inv = OpenInventory(db);
  if (!inv.ok()) return ReportError(io, inv.status());
  absl::StatusOr<int64_t> run = (*inv)->BeginRun("{\"import\":true}", RunKind::kImport,
                                                      /*for_clm=*/false);
  if (!run.ok()) return ReportError(io, run.status());
  uint64_t lines = 0, bad = 0;
  for (const std::string& file : files) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(file.c_str(), "r"), &fclose);
    if (!f) {
      (void)(*inv)->FinishRun(*run, "failed", lines, 0);
      return ReportError(io, absl::NotFoundError(
                                 absl::StrCat("cannot read ", file, ": ", strerror(errno))));
    }
    char* buf = nullptr;
    size_t cap = 0;
    ssize_t n;
    uint64_t line_number = 0;
    while ((n = getline(&buf, &cap, f.get())) > 0) {
      ++line_number;
      std::string line(buf, static_cast<size_t>(n));
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (line.empty()) continue;
      ++lines;
      absl::Status s = (*inv)->AddResultLine(*run, line);
      if (absl::IsInvalidArgument(s)) {
        if (++bad <= 10) {
          fprintf(io.err, "ers: %s:%llu: skipped: %s\n", file.c_str(),
                  static_cast<unsigned long long>(line_number),
                  std::string(s.message()).c_str());
        }
      } else if (!s.ok()) {
        free(buf);
        (void)(*inv)->FinishRun(*run, "failed", lines, 0);
        return ReportError(io, s);
      }
    }
    free(buf);
  }
  if (bad > 10) {
    fprintf(io.err, "ers: ... and %llu more lines skipped\n",
            static_cast<unsigned long long>(bad - 10));
  }
  if (lines == bad) {
    // Nothing in the input was a result: the wrong file, not a partial import.
    const std::string why = absl::StrCat(
        lines == 0 ? "no result lines" : "no valid result line", " in ",
        absl::StrJoin(files, ", "), " (ers import reads the JSON Lines of ers scan --output)");
    (void)(*inv)->FinishRun(*run, "failed", lines, 0, why);
    return ReportError(io, absl::InvalidArgumentError(why));
  }
  absl::Status s = (*inv)->FinishRun(*run, "done", lines, 0);
  if (!s.ok()) return ReportError(io, s);
  fprintf(io.out, "imported %llu results as run %lld (%llu skipped)\n",
          static_cast<unsigned long long>(lines - bad), static_cast<long long>(*run),
          static_cast<unsigned long long>(bad));
  return bad > 0 ? kExitPartial : kExitOk;
}

}  // namespace ers

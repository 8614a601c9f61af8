// manual.h: man pages and shell completion made from the same text as
// --help, so the three never disagree. `ers manpage [COMMAND]` prints a page
// (troff, man(7) macros); `ers completion bash|zsh` prints a script.
#ifndef ERS_CLI_MANUAL_H_
#define ERS_CLI_MANUAL_H_

#include <string>
#include <vector>

namespace ers {

// ManualEntry is one subcommand as the manual sees it.
struct ManualEntry {
  std::string name;     // "scan"
  std::string summary;  // one line
  std::string help;     // what `ers NAME --help` prints
};

// ManPage renders |help| text (a "Usage:" line, paragraphs, an "Examples:"
// block, a "Flags:" table) as the man page of "ers NAME" (NAME empty: the
// page of ers itself, whose |help| is `ers --help`). |see_also| lists the
// other pages.
std::string ManPage(const ManualEntry& entry, const std::string& version,
                    const std::vector<std::string>& see_also);

// FlagNames returns the flags (and their short forms) a help text lists.
std::vector<std::string> FlagNames(const std::string& help);

// BashCompletion and ZshCompletion complete the subcommands, then each
// subcommand's flags, then file names.
std::string BashCompletion(const std::vector<ManualEntry>& entries);
std::string ZshCompletion(const std::vector<ManualEntry>& entries);

}  // namespace ers

#endif  // ERS_CLI_MANUAL_H_

#include "cli/manual.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace ers {
namespace {

// Roff escapes text for a man page: backslashes, hyphens (so that flags
// copy and paste as ASCII), and a leading dot or quote.
std::string Roff(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

// IsHeading reports whether |line| starts a section ("Examples:").
bool IsHeading(absl::string_view line) {
  if (line.size() < 2 || line.back() != ':' || !absl::ascii_isupper(line[0])) return false;
  for (char c : line.substr(0, line.size() - 1)) {
    if (!absl::ascii_isalpha(c) && c != ' ') return false;
  }
  return true;
}

constexpr int kFlagColumn = 28;

// SplitFlagLine splits "  -p, --ports LIST    help" into the flag part and
// the help; the help is empty when it continues on the next line.
std::pair<std::string, std::string> SplitFlagLine(absl::string_view line) {
  absl::string_view body = absl::StripLeadingAsciiWhitespace(line);
  size_t gap = body.find("  ");
  if (gap == absl::string_view::npos) return {std::string(body), ""};
  return {std::string(body.substr(0, gap)),
          std::string(absl::StripLeadingAsciiWhitespace(body.substr(gap)))};
}

}  // namespace

std::string ManPage(const ManualEntry& entry, const std::string& version,
                    const std::vector<std::string>& see_also) {
  const std::string page = entry.name.empty() ? "ers" : absl::StrCat("ers-", entry.name);
  std::string out = absl::StrCat(".TH ", absl::AsciiStrToUpper(page), " 1 \"\" \"ers ", version,
                                 "\" \"ers manual\"\n.SH NAME\n", Roff(page), " \\- ",
                                 Roff(entry.summary), "\n");
  enum class Mode { kDescription, kSynopsis, kExamples, kFlags } mode = Mode::kDescription;
  bool description_started = false;
  bool in_verbatim = false;
  auto end_verbatim = [&] {
    if (in_verbatim) out += ".fi\n";
    in_verbatim = false;
  };
  for (absl::string_view line : absl::StrSplit(entry.help, '\n')) {
    if (absl::StartsWith(line, "Usage: ")) {
      end_verbatim();
      absl::StrAppend(&out, ".SH SYNOPSIS\n.B ", Roff(line.substr(7)), "\n");
      mode = Mode::kDescription;
      continue;
    }
    if (IsHeading(line)) {
      end_verbatim();
      if (line == "Usage:") {
        out += ".SH SYNOPSIS\n.nf\n";
        in_verbatim = true;
        mode = Mode::kSynopsis;
      } else if (line == "Examples:") {
        out += ".SH EXAMPLES\n.nf\n";
        in_verbatim = true;
        mode = Mode::kExamples;
      } else if (line == "Flags:") {
        out += ".SH OPTIONS\n";
        mode = Mode::kFlags;
        description_started = false;
      } else {
        absl::StrAppend(&out, ".SH ", Roff(absl::AsciiStrToUpper(line.substr(0, line.size() - 1))),
                        "\n");
        mode = Mode::kDescription;
      }
      continue;
    }
    switch (mode) {
      case Mode::kSynopsis:
      case Mode::kExamples:
        if (line.empty()) {
          end_verbatim();
          mode = Mode::kDescription;
          description_started = false;
          break;
        }
        absl::StrAppend(&out, Roff(absl::StripPrefix(line, "  ")), "\n");
        break;
      case Mode::kFlags: {
        if (line.empty()) break;
        if (line.size() > kFlagColumn && line.substr(0, kFlagColumn).find_first_not_of(' ') ==
                                             absl::string_view::npos) {
          absl::StrAppend(&out, Roff(absl::StripLeadingAsciiWhitespace(line)), "\n");
          break;
        }
        auto [flag, help] = SplitFlagLine(line);
        absl::StrAppend(&out, ".TP\n.B ", Roff(flag), "\n");
        if (!help.empty()) absl::StrAppend(&out, Roff(help), "\n");
        break;
      }
      case Mode::kDescription:
        if (line.empty()) {
          if (description_started) out += ".PP\n";
          break;
        }
        if (!description_started) {
          // Text before the synopsis is the page's NAME line again; text
          // after an examples block is its notes.
          if (!absl::StrContains(out, ".SH SYNOPSIS")) break;
          out += absl::StrContains(out, ".SH EXAMPLES") ? ".SH NOTES\n" : ".SH DESCRIPTION\n";
        }
        description_started = true;
        absl::StrAppend(&out, Roff(absl::StripLeadingAsciiWhitespace(line)), "\n");
        break;
    }
  }
  end_verbatim();
  out +=
      ".SH EXIT STATUS\n"
      "0 ok; 1 fatal error; 2 usage or configuration error; 3 partial (targets lost to local "
      "errors, a stopped run, batches not delivered); 4 a finding at or above "
      "\\-\\-fail\\-on SEVERITY.\n"
      ".SH ENVIRONMENT\n"
      ".TP\n.B ERS_DB\nthe inventory when \\-\\-db is not given (default "
      "$XDG_DATA_HOME/ers/ers.db, else ~/.local/share/ers/ers.db)\n"
      ".TP\n.B NO_COLOR\nwhen set, no colour on terminals\n";
  if (!see_also.empty()) {
    std::vector<std::string> refs;
    for (const std::string& s : see_also) {
      if (s != page) refs.push_back(absl::StrCat(".BR ", Roff(s), " (1)"));
    }
    absl::StrAppend(&out, ".SH SEE ALSO\n", absl::StrJoin(refs, ",\n"), "\n");
  }
  return out;
}

std::vector<std::string> FlagNames(const std::string& help) {
  std::vector<std::string> out;
  bool in_flags = false;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (line == "Flags:") {
      in_flags = true;
      continue;
    }
    if (!in_flags || !absl::StartsWith(line, "  -")) continue;
    const std::string flag = SplitFlagLine(line).first;
    for (absl::string_view spelling : absl::StrSplit(flag, ", ")) {
      spelling = spelling.substr(0, spelling.find_first_of(" ["));
      if (!spelling.empty()) out.emplace_back(spelling);
    }
  }
  return out;
}

std::string BashCompletion(const std::vector<ManualEntry>& entries) {
  std::vector<std::string> names;
  std::string cases;
  for (const ManualEntry& e : entries) {
    names.push_back(e.name);
    absl::StrAppend(&cases, "    ", e.name, ") flags=\"", absl::StrJoin(FlagNames(e.help), " "),
                    "\" ;;\n");
  }
  return absl::StrCat(
      "# bash completion for ers (ers completion bash)\n"
      "_ers() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} flags=\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"",
      absl::StrJoin(names, " "),
      " help --help --version\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  case \"${COMP_WORDS[1]}\" in\n",
      cases,
      "    help) COMPREPLY=($(compgen -W \"", absl::StrJoin(names, " "),
      "\" -- \"$cur\")); return ;;\n"
      "  esac\n"
      "  if [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$flags --help\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -F _ers ers\n");
}

std::string ZshCompletion(const std::vector<ManualEntry>& entries) {
  std::string commands, cases;
  for (const ManualEntry& e : entries) {
    std::string summary = e.summary;
    absl::StrReplaceAll({{"'", ""}, {":", " -"}}, &summary);
    absl::StrAppend(&commands, "    '", e.name, ":", summary, "'\n");
    absl::StrAppend(&cases, "    ", e.name, ") flags=(", absl::StrJoin(FlagNames(e.help), " "),
                    ") ;;\n");
  }
  return absl::StrCat(
      "#compdef ers\n"
      "# zsh completion for ers (ers completion zsh)\n"
      "_ers() {\n"
      "  local -a commands flags\n"
      "  commands=(\n",
      commands,
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe 'command' commands\n"
      "    return\n"
      "  fi\n"
      "  case $words[2] in\n",
      cases,
      "  esac\n"
      "  if [[ $PREFIX == -* ]]; then\n"
      "    compadd -- $flags --help\n"
      "  else\n"
      "    _files\n"
      "  fi\n"
      "}\n"
      "_ers \"$@\"\n");
}

}  // namespace ers

#include "base/flags.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "base/duration.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ers {

void FlagSet::String(const char* name, const char* value_name,
                     const char* help, std::optional<std::string>* out) {
  Flag f;
  f.name = name;
  f.value_name = value_name;
  f.help = help;
  f.string_out = out;
  flags_.push_back(std::move(f));
}

void FlagSet::OptionalValue(const char* name, const char* value_name, const char* help,
                            const char* bare, std::optional<std::string>* out) {
  Flag f;
  f.name = name;
  f.value_name = absl::StrCat("[=", value_name, "]");
  f.help = help;
  f.string_out = out;
  f.bare = bare;
  flags_.push_back(std::move(f));
}

void FlagSet::Alias(const char* spelling, const char* name) {
  aliases_.emplace_back(spelling, name);
}

void FlagSet::Bool(const char* name, const char* help, bool* out) {
  Flag f;
  f.name = name;
  f.help = help;
  f.bool_out = out;
  flags_.push_back(std::move(f));
}

void FlagSet::Count(const char* name, const char* help, uint64_t min,
                    uint64_t max, std::optional<uint64_t>* out) {
  Flag f;
  f.name = name;
  f.value_name = "N";
  f.help = help;
  f.count_out = out;
  f.count_min = min;
  f.count_max = max;
  flags_.push_back(std::move(f));
}

void FlagSet::Duration(const char* name, const char* help, absl::Duration min,
                       absl::Duration max,
                       std::optional<absl::Duration>* out) {
  Flag f;
  f.name = name;
  f.value_name = "DURATION";
  f.help = help;
  f.duration_out = out;
  f.duration_min = min;
  f.duration_max = max;
  flags_.push_back(std::move(f));
}

absl::Status FlagSet::Store(const Flag& flag, absl::string_view value) const {
  if (flag.string_out != nullptr) {
    *flag.string_out = std::string(value);
  } else if (flag.count_out != nullptr) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(value, &v) || v < flag.count_min || v > flag.count_max) {
      return absl::InvalidArgumentError(
          absl::StrCat("ers ", command_, ": --", flag.name, " \"", value,
                       "\" is not a number from ", flag.count_min, " to ",
                       flag.count_max));
    }
    *flag.count_out = v;
  } else if (flag.duration_out != nullptr) {
    absl::StatusOr<absl::Duration> d = ParseDurationIn(
        value, absl::StrCat("ers ", command_, ": --", flag.name),
        flag.duration_min, flag.duration_max);
    if (!d.ok()) return d.status();
    *flag.duration_out = *d;
  }
  return absl::OkStatus();
}

const FlagSet::Flag* FlagSet::Find(absl::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args,
                            std::vector<std::string>* positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    std::string expanded;
    for (const auto& [spelling, name] : aliases_) {
      if (arg == spelling) {
        expanded = absl::StrCat("--", name);
        arg = expanded;
        break;
      }
    }
    if (!absl::StartsWith(arg, "--")) {
      if (positional == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ers ", command_, ": unexpected argument \"", arg,
            "\" (flags start with --; see ers ", command_, " --help)"));
      }
      positional->emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    std::optional<absl::string_view> inline_value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Flag* flag = Find(arg);
    if (flag == nullptr) {
      std::vector<std::string> names;
      for (const Flag& f : flags_) names.push_back("--" + f.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "ers ", command_, ": unknown flag --", arg, " (known: ",
          absl::StrJoin(names, ", "), ")"));
    }
    if (flag->bool_out != nullptr) {
      if (inline_value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ers ", command_, ": --", arg, " takes no value"));
      }
      *flag->bool_out = true;
      continue;
    }
    if (flag->bare.has_value() && !inline_value.has_value()) {
      *flag->string_out = *flag->bare;
      continue;
    }
    if (!inline_value.has_value()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ers ", command_, ": --", arg, " needs a value (", "--", arg, " ",
            flag->value_name, ")"));
      }
      inline_value = args[++i];
    }
    if (absl::Status s = Store(*flag, *inline_value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out;
  for (const Flag& f : flags_) {
    std::string left = "  ";
    for (const auto& [spelling, name] : aliases_) {
      if (name == f.name) absl::StrAppend(&left, spelling, ", ");
    }
    absl::StrAppend(&left, "--", f.name);
    if (!f.value_name.empty()) {
      absl::StrAppend(&left, f.bare.has_value() ? "" : " ", f.value_name);
    }
    if (left.size() < 28) left.resize(28, ' ');
    else left += "\n" + std::string(28, ' ');
    absl::StrAppend(&out, left, f.help, "\n");
  }
  absl::StrAppend(&out, "  --help                    show this help\n");
  return out;
}

}  // namespace ers

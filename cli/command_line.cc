#include "cli/command_line.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace shapin::cli {
namespace {

std::vector<std::string> Words(absl::string_view name) {
  return absl::StrSplit(name, ' ', absl::SkipEmpty());
}

bool IsOptional(absl::string_view positional) {
  return absl::StartsWith(positional, "[");
}

const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags,
                         absl::string_view name) {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The command whose words equal `words`, if any.
const CommandSpec* ExactCommand(const std::vector<CommandSpec>& commands,
                                const std::vector<std::string>& words) {
  for (const CommandSpec& c : commands) {
    if (Words(c.name) == words) return &c;
  }
  return nullptr;
}

// Commands that `words` is a strict prefix of ("build" → build submit, …).
std::vector<std::string> Continuations(const std::vector<CommandSpec>& commands,
                                       const std::vector<std::string>& words) {
  std::vector<std::string> next;
  for (const CommandSpec& c : commands) {
    std::vector<std::string> w = Words(c.name);
    if (w.size() > words.size() &&
        std::equal(words.begin(), words.end(), w.begin())) {
      next.push_back(w[words.size()]);
    }
  }
  return next;
}

std::string KnownCommands(const std::vector<CommandSpec>& commands) {
  std::vector<std::string> firsts;
  for (const CommandSpec& c : commands) {
    std::string first = Words(c.name).front();
    if (std::find(firsts.begin(), firsts.end(), first) == firsts.end()) {
      firsts.push_back(first);
    }
  }
  return absl::StrJoin(firsts, ", ");
}

absl::Status CheckPositionals(const CommandSpec& c,
                              const std::vector<std::string>& got) {
  size_t required = 0;
  for (const std::string& p : c.positionals) {
    if (!IsOptional(p)) ++required;
  }
  if (got.size() < required) {
    return absl::InvalidArgumentError(absl::StrCat(
        c.name, ": missing ", c.positionals[got.size()], " (usage: shapin ",
        c.name, " ", absl::StrJoin(c.positionals, " "), ")"));
  }
  if (got.size() > c.positionals.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        c.name, ": unexpected argument \"", got[c.positionals.size()], "\""));
  }
  return absl::OkStatus();
}

}  // namespace

bool Invocation::Has(absl::string_view flag) const {
  return flags.contains(flag);
}

std::string Invocation::Flag(absl::string_view flag,
                             absl::string_view fallback) const {
  auto it = flags.find(flag);
  return it == flags.end() ? std::string(fallback) : it->second;
}

bool Invocation::Bool(absl::string_view flag) const {
  return Flag(flag, "false") == "true";
}

absl::StatusOr<int> Invocation::Int(absl::string_view flag, int fallback,
                                    int min, int max) const {
  auto it = flags.find(flag);
  if (it == flags.end()) return fallback;
  int value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": must be a whole number from ", min, " to ",
                     max, ", got \"", it->second, "\""));
  }
  return value;
}

absl::StatusOr<absl::Duration> Invocation::Duration(
    absl::string_view flag, absl::Duration fallback) const {
  auto it = flags.find(flag);
  if (it == flags.end()) return fallback;
  absl::Duration d;
  if (!absl::ParseDuration(it->second, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": must be a positive duration like 30s or ",
                     "5m, got \"", it->second, "\""));
  }
  return d;
}

std::string Invocation::Positional(size_t i) const {
  return i < positionals.size() ? positionals[i] : std::string();
}

absl::StatusOr<Invocation> ParseCommandLine(
    const std::vector<CommandSpec>& commands,
    const std::vector<FlagSpec>& global_flags,
    const std::vector<std::string>& args) {
  Invocation inv;
  std::vector<std::string> words;  // command words until a command is known
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && (arg == "-h" || arg == "--help")) {
      inv.help = true;
      continue;
    }
    if (!flags_done && absl::StartsWith(arg, "--")) {
      absl::string_view body = absl::string_view(arg).substr(2);
      std::optional<std::string> inline_value;
      if (size_t eq = body.find('='); eq != absl::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      const FlagSpec* spec = FindFlag(global_flags, body);
      if (spec == nullptr && inv.command != nullptr) {
        spec = FindFlag(inv.command->flags, body);
      }
      if (spec == nullptr) {
        std::string where =
            inv.command ? absl::StrCat(" for \"", inv.command->name, "\"") : "";
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag --", body, where));
      }
      if (spec->value_name.empty()) {
        std::string v = inline_value.value_or("true");
        if (v != "true" && v != "false") {
          return absl::InvalidArgumentError(absl::StrCat(
              "--", body, ": takes no value (or true/false), got \"", v, "\""));
        }
        inv.flags[spec->name] = v;
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "--", body, ": needs a value (", spec->value_name, ")"));
        }
        inline_value = args[++i];
      }
      inv.flags[spec->name] = *inline_value;
      continue;
    }
    if (!flags_done && arg.size() > 1 && arg[0] == '-' && arg != "-") {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag ", arg, " (flags are long: --name or --name=value)"));
    }
    if (inv.command != nullptr) {
      inv.positionals.push_back(arg);
      continue;
    }
    if (words.empty() && arg == "help") {  // `shapin help [command]`
      inv.help = true;
      continue;
    }
    words.push_back(arg);
    if (const CommandSpec* c = ExactCommand(commands, words)) {
      inv.command = c;
      continue;
    }
    if (Continuations(commands, words).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown command \"", absl::StrJoin(words, " "),
                       "\" (commands: ", KnownCommands(commands), ")"));
    }
  }
  if (inv.command == nullptr) {
    if (inv.help) return inv;
    if (words.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no command given (commands: ", KnownCommands(commands), ")"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(absl::StrJoin(words, " "), ": needs a subcommand: ",
                     absl::StrJoin(Continuations(commands, words), ", ")));
  }
  if (inv.help) return inv;
  if (absl::Status s = CheckPositionals(*inv.command, inv.positionals);
      !s.ok()) {
    return s;
  }
  return inv;
}

std::string FlagsHelp(const std::vector<FlagSpec>& flags) {
  std::vector<std::string> heads;
  size_t width = 0;
  for (const FlagSpec& f : flags) {
    heads.push_back(f.value_name.empty()
                        ? absl::StrCat("--", f.name)
                        : absl::StrCat("--", f.name, " ", f.value_name));
    width = std::max(width, heads.back().size());
  }
  std::string out;
  for (size_t i = 0; i < flags.size(); ++i) {
    absl::StrAppend(
        &out, absl::StrFormat("  %-*s  %s\n", width, heads[i], flags[i].help));
  }
  return out;
}

std::string CommandListHelp(const std::vector<CommandSpec>& commands) {
  std::vector<std::string> heads;
  size_t width = 0;
  for (const CommandSpec& c : commands) {
    heads.push_back(
        absl::StrJoin({c.name, absl::StrJoin(c.positionals, " ")}, " "));
    absl::StripTrailingAsciiWhitespace(&heads.back());
    width = std::max(width, heads.back().size());
  }
  std::string out;
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StrAppend(&out, absl::StrFormat("  %-*s  %s\n", width, heads[i],
                                          commands[i].summary));
  }
  return out;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string synopsis =
      absl::StrJoin({std::string("shapin"), command.name,
                     absl::StrJoin(command.positionals, " ")},
                    " ");
  absl::StripTrailingAsciiWhitespace(&synopsis);
  std::string out =
      absl::StrCat("usage: ", synopsis, command.flags.empty() ? "" : " [flags]",
                   "\n\n", command.summary, "\n");
  if (!command.flags.empty()) {
    absl::StrAppend(&out, "\nflags:\n", FlagsHelp(command.flags));
  }
  return out;
}

}  // namespace shapin::cli

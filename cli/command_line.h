// The `shapin` command line: commands of one or two words ("history",
// "build submit"), positional arguments, and GNU-style long flags
// (`--env prod`, `--env=prod`, `--watch`), global flags allowed anywhere.
// Pure: no I/O, no environment; errors name the offending word and are
// INVALID_ARGUMENT (the CLI exits 2 on them).
//
//   std::vector<CommandSpec> commands = {
//       {.name = "deploy", .positionals = {"SHA"},
//        .flags = {{.name = "env", .value_name = "ENV", .help = "…"},
//                  {.name = "dry-run", .help = "…"}}}};
//   absl::StatusOr<Invocation> inv =
//       ParseCommandLine(commands, globals, {"deploy", "3f2a…", "--dry-run"});
//   inv->command->name;         // "deploy"
//   inv->positionals[0];        // "3f2a…"
//   inv->Has("dry-run");        // true
#ifndef SHAPIN_CLI_COMMAND_LINE_H_
#define SHAPIN_CLI_COMMAND_LINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shapin::cli {

struct FlagSpec {
  // Without the dashes: "dry-run" is given as --dry-run.
  std::string name{};
  // Placeholder in help ("ENV"); empty for a boolean flag.
  std::string value_name{};
  std::string help{};
};

struct CommandSpec {
  // One or two words: "deploy", "build submit". No command's words may be a
  // prefix of another's.
  std::string name{};
  // Names for help; a name in brackets ("[SHA]") is optional and only the
  // last ones may be optional.
  std::vector<std::string> positionals{};
  std::vector<FlagSpec> flags{};
  std::string summary{};
};

// A parsed command line. `command` is null only when help was asked for
// without naming a (complete) command.
struct Invocation {
  const CommandSpec* command = nullptr;
  std::vector<std::string> positionals{};
  // Flag name → value; boolean flags hold "true" or "false".
  absl::flat_hash_map<std::string, std::string> flags;
  // --help / -h / `shapin help [command]`.
  bool help = false;

  bool Has(absl::string_view flag) const;
  // The flag's value, or `fallback` when absent.
  std::string Flag(absl::string_view flag, absl::string_view fallback) const;
  // True for a boolean flag given as --name or --name=true.
  bool Bool(absl::string_view flag) const;
  // A whole number in [min, max]; INVALID_ARGUMENT naming the flag otherwise.
  absl::StatusOr<int> Int(absl::string_view flag, int fallback, int min,
                          int max) const;
  // A duration such as "30s" or "5m" (absl::ParseDuration), > 0.
  absl::StatusOr<absl::Duration> Duration(absl::string_view flag,
                                          absl::Duration fallback) const;
  // The positional at `i`, or "" when an optional one was left out.
  std::string Positional(size_t i) const;
};

// Parses `args` (without argv[0]). Errors (INVALID_ARGUMENT): unknown command
// (listing the known ones), a group without its subcommand, unknown flag,
// missing flag value, a value given to a boolean flag other than
// true/false, too few or too many positional arguments.
absl::StatusOr<Invocation> ParseCommandLine(
    const std::vector<CommandSpec>& commands,
    const std::vector<FlagSpec>& global_flags,
    const std::vector<std::string>& args);

// Help text: every command with its summary (for `shapin --help`), or one
// command's synopsis and flags.
std::string CommandListHelp(const std::vector<CommandSpec>& commands);
std::string CommandHelp(const CommandSpec& command);
std::string FlagsHelp(const std::vector<FlagSpec>& flags);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_COMMAND_LINE_H_

// A CLI command: its command-line spec and the function that runs it,
// returning the process exit code (cli/exit_code.h).
//
//   Command c{.spec = {.name = "history", .summary = "…"},
//             .run = [](CommandContext& ctx) { return RunHistory(ctx); }};
#ifndef SHAPIN_CLI_COMMAND_H_
#define SHAPIN_CLI_COMMAND_H_

#include <functional>

#include "cli/command_context.h"
#include "cli/command_line.h"

namespace shapin::cli {

struct Command {
  CommandSpec spec{};
  std::function<int(CommandContext&)> run{};
};

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_COMMAND_H_

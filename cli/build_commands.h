// `shapin build submit|watch|get|list`: BuildService from the command line.
//
//   shapin build submit 3f2a…40hex --branch main --watch
//   shapin build watch 42
//   shapin build get 42 --output json
//   shapin build list --branch main --limit 10
#ifndef SHAPIN_CLI_BUILD_COMMANDS_H_
#define SHAPIN_CLI_BUILD_COMMANDS_H_

#include <vector>

#include "cli/command.h"

namespace shapin::cli {

std::vector<Command> BuildCommands();

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_BUILD_COMMANDS_H_

// DeployService from the command line: `deploy`, `rollback`, `history`,
// `current`, `targets`, `resolve`, `release-hold`.
//
//   shapin deploy 3f2a…40hex --env production
//   shapin rollback --env production --reason "5xx after 9c1d"
//   shapin history --env production
//   shapin targets --env production
#ifndef SHAPIN_CLI_DEPLOY_COMMANDS_H_
#define SHAPIN_CLI_DEPLOY_COMMANDS_H_

#include <vector>

#include "cli/command.h"

namespace shapin::cli {

// Environment when --env is not given: SHAPIN_ENV, else this.
inline constexpr char kDefaultEnvironment[] = "production";

std::vector<Command> DeployCommands();

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_DEPLOY_COMMANDS_H_

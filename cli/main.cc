// shapin: the command-line client of build-svc and deploy-svc.
//
//   shapin build submit <sha> --branch main --watch
//   shapin deploy <sha> --env production
//   shapin history --env production
//
// Wiring only: parse the command line, resolve endpoints and token, pick the
// output style, run the command, exit with its code (cli/exit_code.h).
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/build_commands.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/command_line.h"
#include "cli/connection.h"
#include "cli/deploy_commands.h"
#include "cli/exit_code.h"
#include "cli/terminal_style.h"

namespace shapin::cli {
namespace {

std::vector<FlagSpec> GlobalFlags() {
  return {
      {.name = "build-addr",
       .value_name = "HOST:PORT",
       .help = absl::StrCat("build-svc (default $SHAPIN_BUILD_ADDR, else ",
                            kDefaultBuildAddr, ")")},
      {.name = "deploy-addr",
       .value_name = "HOST:PORT",
       .help = absl::StrCat("deploy-svc (default $SHAPIN_DEPLOY_ADDR, else ",
                            kDefaultDeployAddr, ")")},
      {.name = "token",
       .value_name = "TOKEN",
       .help = "bearer token (default $SHAPIN_TOKEN; none if unset)"},
      {.name = "tls", .help = "TLS to the servers (default $SHAPIN_TLS=1)"},
      {.name = "ca-file",
       .value_name = "PEM",
       .help = "CA certificates for TLS (implies --tls; $SHAPIN_CA_FILE)"},
      {.name = "output",
       .value_name = "FORMAT",
       .help = "table (default) or json ($SHAPIN_OUTPUT)"},
      {.name = "no-color",
       .help = "no colour (also when NO_COLOR is set or stdout is no TTY)"},
      {.name = "timeout",
       .value_name = "DURATION",
       .help = "deadline of quick calls (default 30s; builds and deploys "
               "have none)"},
  };
}

std::vector<Command> AllCommands() {
  std::vector<Command> all = BuildCommands();
  for (Command& c : DeployCommands()) all.push_back(std::move(c));
  return all;
}

std::string MainHelp(const std::vector<CommandSpec>& specs,
                     const std::vector<FlagSpec>& globals) {
  return absl::StrCat(
      "usage: shapin [global flags] <command> [arguments] [flags]\n\n"
      "Builds images per git commit and deploys them by SHA "
      "(build-svc, deploy-svc).\n\ncommands:\n",
      CommandListHelp(specs), "\nglobal flags (anywhere on the line):\n",
      FlagsHelp(globals),
      "\n`shapin <command> --help` shows a command's flags.\n\n"
      "exit codes:\n",
      ExitCodeHelp());
}

int Run(int argc, char** argv) {
  const std::vector<Command> commands = AllCommands();
  std::vector<CommandSpec> specs;
  for (const Command& c : commands) specs.push_back(c.spec);
  const std::vector<FlagSpec> globals = GlobalFlags();

  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<Invocation> inv = ParseCommandLine(specs, globals, args);
  if (!inv.ok()) {
    std::cerr << "shapin: " << inv.status().message()
              << "\nRun 'shapin --help' for usage.\n";
    return kExitUsage;
  }
  if (inv->help) {
    std::cout << (inv->command ? CommandHelp(*inv->command)
                               : MainHelp(specs, globals));
    if (inv->command) {
      std::cout << "\nglobal flags:\n" << FlagsHelp(globals);
    }
    return kExitOk;
  }

  const std::string format =
      inv->Flag("output", EnvVar("SHAPIN_OUTPUT").value_or("table"));
  if (format != "table" && format != "json") {
    std::cerr << "shapin: --output: must be table or json, got \"" << format
              << "\"\n";
    return kExitUsage;
  }
  absl::StatusOr<absl::Duration> timeout =
      inv->Duration("timeout", absl::Seconds(30));
  if (!timeout.ok()) {
    std::cerr << "shapin: " << timeout.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<ConnectionSettings> settings = ResolveConnection(*inv, EnvVar);
  if (!settings.ok()) {
    std::cerr << "shapin: " << settings.status().message() << "\n";
    return kExitUsage;
  }
  Connection conn(*settings);
  std::string requested_by = inv->Flag("requested-by", "");
  if (requested_by.empty()) {
    requested_by = EnvVar("USER").value_or("");
  }
  if (requested_by.empty()) requested_by = "shapin-cli";

  CommandContext ctx{
      .inv = *inv,
      .conn = conn,
      .format = format == "json" ? OutputFormat::kJson : OutputFormat::kTable,
      .style = TerminalStyle::ForStdout(inv->Bool("no-color")),
      .live = StdoutIsTerminal(),
      .out = std::cout,
      .err = std::cerr,
      .timeout = *timeout,
      .requested_by = requested_by,
  };
  for (const Command& c : commands) {
    if (c.spec.name == inv->command->name) return c.run(ctx);
  }
  return kExitUsage;  // Unreachable: the parser only returns known commands.
}

}  // namespace
}  // namespace shapin::cli

int main(int argc, char** argv) { return shapin::cli::Run(argc, argv); }

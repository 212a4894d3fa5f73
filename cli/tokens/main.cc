// shapin-tokens: creates, lists and revokes the bearer tokens kept in
// PostgreSQL (table api_tokens), which both services reload every
// auth.refresh_interval. Talks to the database directly; adds no RPC.
//
//   shapin-tokens --database-url URL create --name ci --roles builder,viewer
//                                       # prints the token once, on stdout
//   shapin-tokens list [--all]          # names, roles, dates; digest prefix
//   shapin-tokens revoke --name ci
//
// The database URL: --database-url, else database.url of --config FILE (a
// service's configuration, SHAPIN_* overrides included), else $DATABASE_URL,
// else $SHAPIN_DATABASE_URL. Applies pending migrations first, like the
// services. Exit codes: 0 done, 2 bad command line or value (the message
// names the field), 1 anything else (no such token, database unreachable).
// The token is never logged nor written anywhere but stdout.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "cli/table.h"
#include "cli/terminal_style.h"
#include "common/auth/adapters/postgres_api_token_store.h"
#include "common/auth/api_token.h"
#include "common/config.h"
#include "common/postgres_pool.h"
#include "common/schema_migrations.h"
#include "common/status_macros.h"

namespace shapin::cli {
namespace {

constexpr absl::string_view kProgram = "shapin-tokens";

std::vector<FlagSpec> GlobalFlags() {
  return {
      {.name = "database-url",
       .value_name = "URL",
       .help = "PostgreSQL of the services (default: database.url of "
               "--config, else $DATABASE_URL, else $SHAPIN_DATABASE_URL)"},
      {.name = "config",
       .value_name = "FILE",
       .help = "a service's configuration file, for its database.url"},
      {.name = "by",
       .value_name = "WHO",
       .help = "recorded as created_by / revoked_by (default $USER)"},
  };
}

std::vector<CommandSpec> Commands() {
  return {
      {.name = "create",
       .flags = {{.name = "name",
                  .value_name = "NAME",
                  .help = "the caller's name (requested_by), unique among "
                          "active tokens"},
                 {.name = "roles",
                  .value_name = "ROLES",
                  .help = "comma-separated: builder, deployer, operator, "
                          "viewer"}},
       .summary = "create a token and print it once on stdout"},
      {.name = "list",
       .flags = {{.name = "all", .help = "include revoked tokens"}},
       .summary = "list tokens (never their digests in full)"},
      {.name = "revoke",
       .flags = {{.name = "name",
                  .value_name = "NAME",
                  .help = "the active token to revoke"}},
       .summary = "revoke the active token with this name"},
  };
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

absl::StatusOr<std::string> DatabaseUrl(const Invocation& inv) {
  if (inv.Has("database-url")) return inv.Flag("database-url", "");
  if (inv.Has("config")) {
    absl::StatusOr<Config> config = LoadConfig(
        Service::kBuild, inv.Flag("config", ""), EnvironmentFromProcess());
    if (!config.ok()) return config.status();
    return config->database.url;
  }
  for (const char* name : {"DATABASE_URL", "SHAPIN_DATABASE_URL"}) {
    if (std::string url = Env(name); !url.empty()) return url;
  }
  return absl::InvalidArgumentError(
      "--database-url: required (or --config FILE, or $DATABASE_URL)");
}

absl::StatusOr<std::string> RequiredFlag(const Invocation& inv,
                                         absl::string_view flag) {
  std::string value = inv.Flag(flag, "");
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": required"));
  }
  return value;
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status Create(const Invocation& inv, auth::ApiTokenStore& store,
                    const std::string& by) {
  SHAPIN_ASSIGN_OR_RETURN(std::string name, RequiredFlag(inv, "name"));
  SHAPIN_ASSIGN_OR_RETURN(std::string roles, RequiredFlag(inv, "roles"));
  const std::vector<std::string> role_names =
      absl::StrSplit(roles, ',', absl::SkipWhitespace());
  SHAPIN_ASSIGN_OR_RETURN(auth::MintedApiToken minted,
                          auth::MintApiToken(name, role_names, by));
  SHAPIN_RETURN_IF_ERROR(store.Create(minted.record));
  std::cerr << kProgram << ": created token \"" << name << "\" (roles "
            << minted.record.roles.ToString() << ", sha256 "
            << auth::AbbreviatedDigest(minted.record.sha256_hex)
            << "); it is shown only now, and the services accept it within "
               "auth.refresh_interval\n";
  std::cout << minted.token << std::endl;
  return absl::OkStatus();
}

absl::Status List(const Invocation& inv, auth::ApiTokenStore& store) {
  SHAPIN_ASSIGN_OR_RETURN(std::vector<auth::ApiTokenRecord> records,
                          store.List(inv.Bool("all")));
  Table table({"NAME", "ROLES", "CREATED", "CREATED BY", "REVOKED", "SHA256"});
  for (const auth::ApiTokenRecord& r : records) {
    table.AddRow({{r.name},
                  {r.roles.ToString()},
                  {FormatUtc(r.created_at)},
                  {r.created_by},
                  {r.revoked_at ? absl::StrCat(FormatUtc(*r.revoked_at), " by ",
                                               r.revoked_by)
                                : ""},
                  {auth::AbbreviatedDigest(r.sha256_hex)}});
  }
  std::cout << table.Render(TerminalStyle(false));
  return absl::OkStatus();
}

absl::Status Revoke(const Invocation& inv, auth::ApiTokenStore& store,
                    const std::string& by) {
  SHAPIN_ASSIGN_OR_RETURN(std::string name, RequiredFlag(inv, "name"));
  SHAPIN_RETURN_IF_ERROR(store.Revoke(name, by));
  std::cerr << kProgram << ": revoked token \"" << name
            << "\"; the services refuse it within auth.refresh_interval\n";
  return absl::OkStatus();
}

absl::Status Run(const Invocation& inv) {
  SHAPIN_ASSIGN_OR_RETURN(std::string url, DatabaseUrl(inv));
  SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<PostgresPool> pool,
                          PostgresPool::Connect({.url = url, .size = 1}));
  SHAPIN_RETURN_IF_ERROR(ApplyMigrations(*pool).status());
  auth::PostgresApiTokenStore store(*pool);
  std::string by = inv.Flag("by", Env("USER"));
  if (by.empty()) by = std::string(kProgram);
  const std::string& command = inv.command->name;
  if (command == "create") return Create(inv, store, by);
  if (command == "list") return List(inv, store);
  return Revoke(inv, store, by);
}

int Main(int argc, char** argv) {
  const std::vector<CommandSpec> commands = Commands();
  const std::vector<FlagSpec> globals = GlobalFlags();
  absl::StatusOr<Invocation> inv = ParseCommandLine(
      commands, globals, std::vector<std::string>(argv + 1, argv + argc));
  if (!inv.ok()) {
    std::cerr << kProgram << ": " << inv.status().message() << "\n";
    return 2;
  }
  if (inv->help || inv->command == nullptr) {
    std::cout << "usage: " << kProgram << " [flags] COMMAND [flags]\n\n"
              << (inv->command ? CommandHelp(*inv->command)
                               : CommandListHelp(commands))
              << "\nflags:\n"
              << FlagsHelp(globals);
    return 0;
  }
  absl::Status status = Run(*inv);
  if (status.ok()) return 0;
  std::cerr << kProgram << ": " << status.message() << "\n";
  return absl::IsInvalidArgument(status) ? 2 : 1;
}

}  // namespace
}  // namespace shapin::cli

int main(int argc, char** argv) { return shapin::cli::Main(argc, argv); }

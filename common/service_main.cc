#include "common/service_main.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/adapters/postgres_api_token_store.h"
#include "common/auth/api_token.h"
#include "common/log.h"
#include "common/metrics_exposer.h"
#include "common/schema_migrations.h"
#include "common/status_macros.h"

namespace shapin {
namespace {

int Fail(absl::string_view step, const absl::Status& status) {
  LogError("startup_failed", {{"step", step}, {"error", status.message()}});
  return 1;
}

void PrintUsage(absl::string_view program) {
  std::cout << "usage: " << program << " [--config FILE]\n\n"
            << "Configuration keys and their SHAPIN_* environment overrides "
               "are listed in docs/configuration.md.\n";
}

absl::StatusOr<std::string> ReadPemFile(absl::string_view key,
                                        const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("configuration key ", key, ": ", path, " cannot be read"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The identities of auth.tokens_file (the database's tokens are added once
// it is connected: AddDatabaseTokens).
absl::StatusOr<std::shared_ptr<auth::AuthPolicy>> LoadAuthPolicy(
    const AuthConfig& config) {
  auto policy = std::make_shared<auth::AuthPolicy>();
  policy->required = config.required;
  if (!config.tokens_file.empty()) {
    absl::StatusOr<auth::IdentityRegistry> ids =
        auth::IdentityRegistry::LoadFile(config.tokens_file);
    if (!ids.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "configuration key auth.tokens_file: ", ids.status().message()));
    }
    policy->identities = *std::move(ids);
  }
  return policy;
}

// The active tokens of the api_tokens table (shapin-tokens), reloaded every
// auth.refresh_interval over a connection of their own, so a slow or lost
// database never holds a call; then the check that someone can call.
absl::Status AddDatabaseTokens(const Config& config, auth::AuthPolicy& policy) {
  SHAPIN_ASSIGN_OR_RETURN(
      std::unique_ptr<PostgresPool> token_pool,
      PostgresPool::Connect(
          {.url = config.database.url,
           .size = 1,
           .acquire_timeout = config.database.connect_timeout}));
  std::shared_ptr<PostgresPool> pool = std::move(token_pool);
  auto store = std::make_shared<auth::PostgresApiTokenStore>(*pool);
  SHAPIN_ASSIGN_OR_RETURN(
      policy.database_tokens,
      auth::RefreshingTokenIdentities::Start(
          [pool, store]() -> absl::StatusOr<auth::IdentityRegistry> {
            SHAPIN_ASSIGN_OR_RETURN(std::vector<auth::ApiTokenRecord> active,
                                    store->List(/*include_revoked=*/false));
            return auth::ActiveTokenIdentities(active, "api_tokens");
          },
          config.auth.refresh_interval, "database api_tokens"));
  const AuthConfig& auth = config.auth;
  if (auth.required && policy.identities.empty() &&
      policy.database_tokens->token_count() == 0) {
    return absl::InvalidArgumentError(
        "configuration key auth.tokens_file: no identities configured while "
        "auth.required is true (list tokens in auth.tokens_file, create one "
        "with shapin-tokens, or set auth.required: false for development "
        "only)");
  }
  if (!auth.required) {
    LogWarning("auth_not_required",
               {{"effect",
                 "calls without credentials run as anonymous with every "
                 "role; development only"}});
  }
  LogInfo("auth_configured",
          {{"tokens", policy.identities.token_count()},
           {"database_tokens", policy.database_tokens->token_count()},
           {"client_certificates", policy.identities.certificate_count()},
           {"refresh_interval", absl::FormatDuration(auth.refresh_interval)},
           {"required", auth.required}});
  return absl::OkStatus();
}

absl::StatusOr<GrpcServerTls> LoadServerTls(const ServerTlsConfig& config) {
  GrpcServerTls tls;
  if (config.cert_file.empty()) return tls;
  SHAPIN_ASSIGN_OR_RETURN(
      tls.cert_chain, ReadPemFile("server.tls.cert_file", config.cert_file));
  SHAPIN_ASSIGN_OR_RETURN(tls.private_key,
                          ReadPemFile("server.tls.key_file", config.key_file));
  if (!config.client_ca_file.empty()) {
    SHAPIN_ASSIGN_OR_RETURN(
        tls.client_ca,
        ReadPemFile("server.tls.client_ca_file", config.client_ca_file));
  }
  return tls;
}

}  // namespace

int RunServiceMain(Service service, absl::string_view program, int argc,
                   char** argv, const WireService& wire) {
  // Debian's Abseil is built without NDEBUG, so every Mutex::Lock feeds the
  // deadlock graph (a measurable share of deploy-svc's CPU under 50 clients,
  // issue 9). Tests keep it on; it only costs in the serving processes.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  BlockShutdownSignals();
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(program);
      return 0;
    }
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else {
      std::cerr << program << ": unknown argument \"" << arg << "\"\n";
      PrintUsage(program);
      return 2;
    }
  }

  absl::StatusOr<Config> config =
      LoadConfig(service, config_path, EnvironmentFromProcess());
  if (!config.ok()) return Fail("configuration", config.status());
  Logger::Global().SetMinLevel(config->log.level);

  absl::StatusOr<std::shared_ptr<auth::AuthPolicy>> auth_policy =
      LoadAuthPolicy(config->auth);
  if (!auth_policy.ok()) return Fail("auth", auth_policy.status());
  absl::StatusOr<GrpcServerTls> tls = LoadServerTls(config->server.tls);
  if (!tls.ok()) return Fail("tls", tls.status());

  absl::StatusOr<std::unique_ptr<PostgresPool>> pool = PostgresPool::Connect(
      {.url = config->database.url,
       .size = config->database.pool_size,
       .acquire_timeout = config->database.connect_timeout});
  if (!pool.ok()) return Fail("database", pool.status());
  absl::StatusOr<int> schema = ApplyMigrations(**pool);
  if (!schema.ok()) return Fail("migrations", schema.status());
  if (absl::Status s = AddDatabaseTokens(*config, **auth_policy); !s.ok()) {
    return Fail("auth", s);
  }

  auto metrics = std::make_shared<prometheus::Registry>();
  absl::StatusOr<std::unique_ptr<MetricsExposer>> exposer =
      MetricsExposer::Start(config->server.metrics_listen, metrics);
  if (!exposer.ok()) return Fail("metrics", exposer.status());

  ServiceContext context{*config, **pool, *metrics, *auth_policy};
  absl::StatusOr<std::unique_ptr<ServiceWiring>> wiring = wire(context);
  if (!wiring.ok()) return Fail("wiring", wiring.status());

  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start({.listen = config->server.listen,
                         .shutdown_grace = config->server.shutdown_grace,
                         .auth = *auth_policy,
                         .tls = *std::move(tls)},
                        (*wiring)->services(), *metrics);
  if (!server.ok()) return Fail("grpc", server.status());

  LogInfo("serving", {{"program", program},
                      {"grpc_port", (*server)->port()},
                      {"grpc_tls", !config->server.tls.cert_file.empty()},
                      {"metrics_port", (*exposer)->port()},
                      {"schema_version", *schema},
                      {"database", (*pool)->display_url()}});
  (*server)->WaitForShutdownSignal();
  server->reset();
  wiring->reset();
  LogInfo("stopped", {{"program", program}});
  return 0;
}

}  // namespace shapin

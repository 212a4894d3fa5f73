#include "common/service_main.h"

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics_exposer.h"
#include "common/schema_migrations.h"

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

}  // namespace

int RunServiceMain(Service service, absl::string_view program, int argc,
                   char** argv, const WireService& wire) {
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

  absl::StatusOr<std::unique_ptr<PostgresPool>> pool = PostgresPool::Connect(
      {.url = config->database.url,
       .size = config->database.pool_size,
       .acquire_timeout = config->database.connect_timeout});
  if (!pool.ok()) return Fail("database", pool.status());
  absl::StatusOr<int> schema = ApplyMigrations(**pool);
  if (!schema.ok()) return Fail("migrations", schema.status());

  auto metrics = std::make_shared<prometheus::Registry>();
  absl::StatusOr<std::unique_ptr<MetricsExposer>> exposer =
      MetricsExposer::Start(config->server.metrics_listen, metrics);
  if (!exposer.ok()) return Fail("metrics", exposer.status());

  ServiceContext context{*config, **pool, *metrics};
  absl::StatusOr<std::unique_ptr<ServiceWiring>> wiring = wire(context);
  if (!wiring.ok()) return Fail("wiring", wiring.status());

  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start({.listen = config->server.listen,
                         .shutdown_grace = config->server.shutdown_grace},
                        (*wiring)->services(), *metrics);
  if (!server.ok()) return Fail("grpc", server.status());

  LogInfo("serving", {{"program", program},
                      {"grpc_port", (*server)->port()},
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

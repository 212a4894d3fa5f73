// The start-up and shutdown sequence both services share.
//
// Flags (--config FILE, --help) → configuration → logging → auth identities
// (auth.tokens_file) and listener TLS (server.tls.*) → PostgreSQL pool →
// migrations → the database's tokens (api_tokens, then reloaded every
// auth.refresh_interval) → metrics endpoint → the service's own wiring → gRPC
// server → wait for SIGTERM/SIGINT → graceful shutdown. Any failure before
// serving logs one `event=startup_failed` line naming the step and exits 1.
//
//   class BuildWiring : public ServiceWiring { … };
//   int main(int argc, char** argv) {
//     return RunServiceMain(Service::kBuild, "build-svc", argc, argv,
//                           [](ServiceContext& ctx) { … return wiring; });
//   }
#ifndef SHAPIN_COMMON_SERVICE_MAIN_H_
#define SHAPIN_COMMON_SERVICE_MAIN_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/grpc_server.h"
#include "common/postgres_pool.h"
#include "prometheus/registry.h"

namespace shapin {

// What a service's wiring may use; all outlive the wiring.
struct ServiceContext {
  const Config& config;
  PostgresPool& pool;
  prometheus::Registry& metrics;
  // Who may call: the same identities and roles the gRPC listener checks,
  // for a service's other listeners (deploy-svc's web console).
  std::shared_ptr<const auth::AuthPolicy> auth = nullptr;
};

// Owns a service's adapters and gRPC services for the life of the server.
class ServiceWiring {
 public:
  virtual ~ServiceWiring() = default;
  virtual std::vector<ServedService> services() = 0;
};

using WireService =
    std::function<absl::StatusOr<std::unique_ptr<ServiceWiring>>(
        ServiceContext&)>;

int RunServiceMain(Service service, absl::string_view program, int argc,
                   char** argv, const WireService& wire);

}  // namespace shapin

#endif  // SHAPIN_COMMON_SERVICE_MAIN_H_

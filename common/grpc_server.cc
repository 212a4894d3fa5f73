#include "common/grpc_server.h"

#include <pthread.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_observability.h"
#include "common/log.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace shapin {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, std::vector<ServedService> services,
    prometheus::Registry& metrics) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  auto server = std::unique_ptr<GrpcServer>(new GrpcServer());
  server->grace_ = options.shutdown_grace;

  grpc::ServerBuilder builder;
  // SO_REUSEPORT would let a second process silently share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  for (const ServedService& s : services) builder.RegisterService(s.service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<ObservabilityInterceptorFactory>(metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("grpc server ", options.listen,
                     ": cannot listen (port in use or address invalid)"));
  }
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const ServedService& s : services) {
    health->SetServingStatus(s.name, true);
  }
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(); }

int GrpcServer::WaitForShutdownSignal() {
  sigset_t set = ShutdownSignals();
  int signal = 0;
  sigwait(&set, &signal);
  LogInfo("shutdown_requested",
          {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  Shutdown();
  return signal;
}

void GrpcServer::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoSeconds(grace_));
  server_->Wait();
  LogInfo("grpc_server_stopped");
}

}  // namespace shapin

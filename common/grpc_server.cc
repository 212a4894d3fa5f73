#include "common/grpc_server.h"

#include <pthread.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "common/auth/method_roles.h"
#include "common/grpc_observability.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"

namespace shapin {
namespace {

// Above the 50 concurrent calls the services are sized for (issue 9).
constexpr int kMaxIdlePollers = 64;

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Every method of every served service needs a role rule; a new RPC without
// one stops the server from starting rather than being silently refused.
absl::Status CheckAuthorizationRules(
    const std::vector<ServedService>& services) {
  for (const ServedService& s : services) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            s.name);
    if (service == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("grpc server: no descriptor for service ", s.name));
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method =
          absl::StrCat("/", s.name, "/", service->method(i)->name());
      if (!auth::RequiredRole(method) && !auth::IsOpenMethod(method)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "grpc server: ", method,
            " has no authorization rule (common/auth/method_roles.cc)"));
      }
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(
    const GrpcServerTls& tls) {
  if (tls.cert_chain.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          // Optional, but verified when presented: token clients still work.
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca;
  ssl.pem_key_cert_pairs.push_back({tls.private_key, tls.cert_chain});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, std::vector<ServedService> services,
    prometheus::Registry& metrics) {
  SHAPIN_RETURN_IF_ERROR(CheckAuthorizationRules(services));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  auto server = std::unique_ptr<GrpcServer>(new GrpcServer());
  server->grace_ = options.shutdown_grace;

  grpc::ServerBuilder builder;
  // SO_REUSEPORT would let a second process silently share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, ListenerCredentials(options.tls),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // The sync server ends a handler thread when more than MAX_POLLERS (default
  // 2) are idle and makes a new one for the next call: with 50 concurrent
  // clients that was a pthread_create per call (issue 9). Keeping up to
  // kMaxIdlePollers lets a burst reuse its threads; it caps nothing.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxIdlePollers);
  for (const ServedService& s : services) builder.RegisterService(s.service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<auth::AuthInterceptorFactory>(
      options.auth != nullptr ? options.auth
                              : std::make_shared<const auth::AuthPolicy>()));
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

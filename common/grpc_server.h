// GrpcServer: the bootstrap both services share.
//
// Adds server reflection (v1alpha, what gRPC 1.51 serves; grpcurl speaks it),
// the standard grpc.health.v1.Health service (SERVING for "" and every
// registered service), the observability interceptor, and graceful shutdown:
// on SIGTERM or SIGINT health turns NOT_SERVING, new calls are refused, and
// calls in flight get `shutdown_grace` to finish before they are cancelled.
// Every other RPC is authenticated and authorized (common/auth/call_auth.h);
// a served method without a role rule is a start-up error. With a
// certificate the listener speaks only TLS (and verifies client certificates
// when a client CA is given). Requests above kMaxReceiveMessageBytes are
// RESOURCE_EXHAUSTED before any handler runs.
//
//   BlockShutdownSignals();  // first thing in main(), before any thread
//   SHAPIN_ASSIGN_OR_RETURN(auto server,
//                           GrpcServer::Start({.listen = "127.0.0.1:0",
//                                              .auth = policy},
//                                             {{&build_service, name}},
//                                             *registry));
//   server->WaitForShutdownSignal();  // returns after a graceful shutdown
#ifndef SHAPIN_COMMON_GRPC_SERVER_H_
#define SHAPIN_COMMON_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/call_auth.h"
#include "grpcpp/server.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/registry.h"

namespace shapin {

// Requests are a few fields of bounded size (common/request_fields.h).
inline constexpr int kMaxReceiveMessageBytes = 64 * 1024;

// PEM contents (not paths) of the listener's TLS material.
struct GrpcServerTls {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // empty: no client certificates
};

struct GrpcServerOptions {
  std::string listen;  // host:port; port 0 picks a free one
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Who may call what. Null: every call but health and reflection is
  // UNAUTHENTICATED (fail closed).
  std::shared_ptr<const auth::AuthPolicy> auth = nullptr;
  // Empty cert_chain: plaintext.
  GrpcServerTls tls = {};
};

// A service to serve, with its full name for health checks
// (e.g. shapin::v1::BuildService::service_full_name()).
struct ServedService {
  grpc::Service* service;
  std::string name;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread created
// after, so that WaitForShutdownSignal() receives them with sigwait().
void BlockShutdownSignals();

class GrpcServer {
 public:
  // `services` must outlive the server. UNAVAILABLE naming the address when
  // it cannot be bound; FAILED_PRECONDITION naming a method of `services`
  // that has no role rule (common/auth/method_roles.cc).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, std::vector<ServedService> services,
      prometheus::Registry& metrics);
  ~GrpcServer();

  int port() const { return port_; }

  // Waits for SIGTERM/SIGINT (blocked by BlockShutdownSignals), then shuts
  // down gracefully. Returns the signal received.
  int WaitForShutdownSignal();
  // Graceful shutdown now; idempotent.
  void Shutdown();

 private:
  GrpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  absl::Duration grace_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_GRPC_SERVER_H_

// Authentication and authorization of gRPC calls.
//
// gRPC C++ server interceptors cannot end a call (grpc/grpc#24017), and an
// AuthMetadataProcessor needs TLS credentials, so the work is split:
// AuthInterceptorFactory (installed by GrpcServer) authenticates each call
// from its `authorization: Bearer <token>` metadata or its verified client
// certificate, checks the method's role (method_roles.h) and attaches the
// outcome to the call; each handler's first step is AuthorizedCaller(),
// which returns that outcome: the caller's Identity, or UNAUTHENTICATED /
// PERMISSION_DENIED (naming the missing role) to return as is. A handler
// that forgot the check still cannot answer OK: the interceptor replaces the
// status of a refused call and logs `auth_check_missing`.
//
//   grpc::Status Service::Deploy(grpc::ServerContext* ctx, …) {
//     absl::StatusOr<auth::Identity> caller = auth::AuthorizedCaller(ctx);
//     if (!caller.ok()) return ToGrpcStatus(caller.status());
//     … args.requested_by = caller->name;
#ifndef SHAPIN_COMMON_AUTH_CALL_AUTH_H_
#define SHAPIN_COMMON_AUTH_CALL_AUTH_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/identity_registry.h"
#include "common/auth/refreshing_token_identities.h"
#include "common/auth/role.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace shapin::auth {

// The credentials a call presented.
struct CallCredentials {
  // The `authorization` metadata value, if sent.
  std::optional<std::string> authorization;
  // Subject CN of a client certificate the TLS handshake verified, if any.
  std::optional<std::string> client_common_name;
};

struct AuthPolicy {
  IdentityRegistry identities;  // auth.tokens_file
  // Tokens of the database (shapin-tokens), reloaded in the background;
  // null when not used. Checked after `identities`.
  std::shared_ptr<const RefreshingTokenIdentities> database_tokens = nullptr;
  // false (development only): a call without credentials is "anonymous"
  // with every role. Presented credentials are still checked.
  bool required = true;
};

// The caller's identity: the bearer token's when one is sent (a bad one is
// UNAUTHENTICATED even when an mTLS identity exists), else the client
// certificate's. UNAUTHENTICATED messages never quote the token.
absl::StatusOr<Identity> Authenticate(const AuthPolicy& policy,
                                      const CallCredentials& credentials);

// The identity holding the token whose SHA-256 (TokenSha256Hex) is given,
// searched like Authenticate does (both sets, constant-time compares).
// UNAUTHENTICATED "unknown token …" when none does: the web console keeps
// only this digest in a session and checks it on every request, so a revoked
// token ends its sessions within auth.refresh_interval.
absl::StatusOr<Identity> AuthenticateTokenSha256(const AuthPolicy& policy,
                                                 absl::string_view sha256_hex);

// PERMISSION_DENIED "caller \"<name>\" lacks role <role> (needed for <what>)".
absl::Status RequireRole(const Identity& caller, Role role,
                         absl::string_view what);

// Authenticate, then the role `full_method` needs (none for open methods;
// a method without a rule is PERMISSION_DENIED).
absl::StatusOr<Identity> AuthorizeCall(const AuthPolicy& policy,
                                       absl::string_view full_method,
                                       const CallCredentials& credentials);

// The outcome the interceptor attached to this call. UNAUTHENTICATED when
// none was attached (no AuthInterceptorFactory on the server): fail closed.
absl::StatusOr<Identity> AuthorizedCaller(
    const grpc::ServerContextBase* context);

class AuthInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuthInterceptorFactory(std::shared_ptr<const AuthPolicy> policy)
      : policy_(std::move(policy)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  std::shared_ptr<const AuthPolicy> policy_;
};

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_CALL_AUTH_H_

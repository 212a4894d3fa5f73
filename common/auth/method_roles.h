// Which role each RPC needs: the authorization table, pure code.
//
// Health and reflection are open (load balancers and grpcurl need them with
// no token); every other method needs the role listed here, and a method
// missing from the table needs a role nobody has (so a new RPC is refused
// until it gets a rule — GrpcServer also refuses to start with one, and
// method_roles_test checks the table against the proto services).
//
//   if (IsOpenMethod("/grpc.health.v1.Health/Check")) …
//   std::optional<Role> r = RequiredRole("/shapin.v1.DeployService/Deploy");
//   // Role::kDeployer; with override_hold Deploy additionally needs kOperator
#ifndef SHAPIN_COMMON_AUTH_METHOD_ROLES_H_
#define SHAPIN_COMMON_AUTH_METHOD_ROLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/auth/role.h"

namespace shapin::auth {

// True for grpc.health.v1.Health and server reflection (v1alpha and v1).
bool IsOpenMethod(absl::string_view full_method);

// The role `full_method` ("/package.Service/Method") needs; nullopt when the
// table has no rule for it (the call must then be refused).
std::optional<Role> RequiredRole(absl::string_view full_method);

// Every method the table has a rule for, as "/package.Service/Method".
std::vector<std::string> MethodsWithRules();

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_METHOD_ROLES_H_

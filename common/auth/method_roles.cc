#include "common/auth/method_roles.h"

#include <utility>

#include "absl/strings/match.h"

namespace shapin::auth {
namespace {

struct Rule {
  absl::string_view method;
  Role role;
};

// Writes by role; every read is viewer. Deploy with override_hold also needs
// operator, which the handler checks (it depends on the request).
constexpr Rule kRules[] = {
    {"/shapin.v1.BuildService/SubmitBuild", Role::kBuilder},
    {"/shapin.v1.BuildService/CancelBuild", Role::kBuilder},
    {"/shapin.v1.BuildService/GetBuild", Role::kViewer},
    {"/shapin.v1.BuildService/WatchBuild", Role::kViewer},
    {"/shapin.v1.BuildService/ListBuilds", Role::kViewer},
    {"/shapin.v1.BuildService/GetImage", Role::kViewer},
    {"/shapin.v1.BuildService/AdoptImage", Role::kOperator},
    {"/shapin.v1.DeployService/Deploy", Role::kDeployer},
    {"/shapin.v1.DeployService/Rollback", Role::kOperator},
    {"/shapin.v1.DeployService/ReleaseHold", Role::kOperator},
    {"/shapin.v1.DeployService/GetDeployment", Role::kViewer},
    {"/shapin.v1.DeployService/ListDeployments", Role::kViewer},
    {"/shapin.v1.DeployService/GetCurrent", Role::kViewer},
    {"/shapin.v1.DeployService/ListRollbackTargets", Role::kViewer},
    {"/shapin.v1.DeployService/ResolveImage", Role::kViewer},
    {"/shapin.v1.DeployService/WatchDeployment", Role::kViewer},
};

constexpr absl::string_view kOpenServices[] = {
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
};

}  // namespace

bool IsOpenMethod(absl::string_view full_method) {
  for (absl::string_view prefix : kOpenServices) {
    if (absl::StartsWith(full_method, prefix)) return true;
  }
  return false;
}

std::optional<Role> RequiredRole(absl::string_view full_method) {
  for (const Rule& rule : kRules) {
    if (rule.method == full_method) return rule.role;
  }
  return std::nullopt;
}

std::vector<std::string> MethodsWithRules() {
  std::vector<std::string> methods;
  for (const Rule& rule : kRules) methods.emplace_back(rule.method);
  return methods;
}

}  // namespace shapin::auth

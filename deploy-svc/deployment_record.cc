#include "deploy-svc/deployment_record.h"

#include <array>

namespace shapin::deploy {
namespace {

constexpr std::array<std::pair<DeploymentKind, absl::string_view>, 2> kKinds = {
    {{DeploymentKind::kDeploy, "deploy"},
     {DeploymentKind::kRollback, "rollback"}}};

constexpr std::array<std::pair<DeploymentState, absl::string_view>, 4> kStates =
    {{{DeploymentState::kPending, "pending"},
      {DeploymentState::kRunning, "running"},
      {DeploymentState::kSucceeded, "succeeded"},
      {DeploymentState::kFailed, "failed"}}};

template <typename Enum, size_t N>
absl::string_view NameOf(
    const std::array<std::pair<Enum, absl::string_view>, N>& table,
    Enum value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "";
}

template <typename Enum, size_t N>
std::optional<Enum> ValueOf(
    const std::array<std::pair<Enum, absl::string_view>, N>& table,
    absl::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

absl::string_view DeploymentKindName(DeploymentKind kind) {
  return NameOf(kKinds, kind);
}
std::optional<DeploymentKind> ParseDeploymentKind(absl::string_view name) {
  return ValueOf(kKinds, name);
}
absl::string_view DeploymentStateName(DeploymentState state) {
  return NameOf(kStates, state);
}
std::optional<DeploymentState> ParseDeploymentState(absl::string_view name) {
  return ValueOf(kStates, name);
}

}  // namespace shapin::deploy

#include "build-svc/build_record.h"

#include <array>
#include <utility>

namespace shapin::build {
namespace {

constexpr std::array<std::pair<BuildState, absl::string_view>, 5> kStates = {{
    {BuildState::kQueued, "queued"},
    {BuildState::kRunning, "running"},
    {BuildState::kSucceeded, "succeeded"},
    {BuildState::kFailed, "failed"},
    {BuildState::kCanceled, "canceled"},
}};

constexpr std::array<std::pair<BuildOutcome, absl::string_view>, 3> kOutcomes =
    {{
        {BuildOutcome::kPublished, "published"},
        {BuildOutcome::kReused, "reused"},
        {BuildOutcome::kReproduced, "reproduced"},
    }};

}  // namespace

absl::string_view BuildStateName(BuildState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "";
}

std::optional<BuildState> ParseBuildState(absl::string_view name) {
  for (const auto& [s, n] : kStates) {
    if (n == name) return s;
  }
  return std::nullopt;
}

absl::string_view BuildOutcomeName(BuildOutcome outcome) {
  for (const auto& [o, name] : kOutcomes) {
    if (o == outcome) return name;
  }
  return "";
}

std::optional<BuildOutcome> ParseBuildOutcome(absl::string_view name) {
  for (const auto& [o, n] : kOutcomes) {
    if (n == name) return o;
  }
  return std::nullopt;
}

}  // namespace shapin::build

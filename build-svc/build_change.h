// BuildChange: what one `shapin_builds` notification says about a build.
//
// PostgreSQL sends one (pg_notify, from triggers of migration 4) on the
// channel kBuildChangeChannel whenever a build is queued, changes state or
// phase, or gets log lines, committed by any process:
//
//   "42 running"   build 42 is now in state running (or changed phase)
//   "42 log"       build 42 has new log lines
//
// Waiting callers and idle workers react to these instead of polling.
#ifndef SHAPIN_BUILD_SVC_BUILD_CHANGE_H_
#define SHAPIN_BUILD_SVC_BUILD_CHANGE_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "build-svc/build_record.h"

namespace shapin::build {

inline constexpr absl::string_view kBuildChangeChannel = "shapin_builds";

struct BuildChange {
  int64_t build_id = 0;
  // The build's state after the change; unset for new log lines.
  std::optional<BuildState> state;

  bool terminal() const {
    return state == BuildState::kSucceeded || state == BuildState::kFailed ||
           state == BuildState::kCanceled;
  }
  // A build became claimable (queued or requeued) or a (repository, SHA)
  // became free (a build ended): idle workers look for work.
  bool frees_work() const { return state == BuildState::kQueued || terminal(); }
};

// Unset for a payload that is not one of the forms above.
std::optional<BuildChange> ParseBuildChange(absl::string_view payload);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_CHANGE_H_

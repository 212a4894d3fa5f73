// BuildHistory: what the console may read of build-svc's records — the
// builds list and one build — and nothing else (no queue, no writes).
//
// deploy-svc serves the console, but builds are build-svc's: the adapter
// (adapters/build_store_history.h) answers through build-svc's own
// BuildStore, so the console runs the same queries over the same tables
// instead of a second copy of them.
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_BUILD_HISTORY_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_BUILD_HISTORY_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "build-svc/build_record.h"
#include "common/git_sha.h"
#include "common/pagination.h"

namespace shapin::console {

class BuildHistory {
 public:
  virtual ~BuildHistory() = default;
  // Newest first; only builds of `sha` when given.
  virtual absl::StatusOr<Page<build::BuildRecord>> ListBuilds(
      const std::optional<GitSha>& sha, const PageRequest& page) = 0;
  // NOT_FOUND "build N not found".
  virtual absl::StatusOr<build::BuildRecord> GetBuild(int64_t build_id) = 0;
};

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_BUILD_HISTORY_H_

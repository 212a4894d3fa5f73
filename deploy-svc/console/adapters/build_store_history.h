// BuildStoreHistory: BuildHistory through build-svc's BuildStore (in
// deploy-svc: PostgresBuildStore on the shared database), reads only.
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_ADAPTERS_BUILD_STORE_HISTORY_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_ADAPTERS_BUILD_STORE_HISTORY_H_

#include "build-svc/build_store.h"
#include "deploy-svc/console/build_history.h"

namespace shapin::console {

class BuildStoreHistory : public BuildHistory {
 public:
  // `store` must outlive this.
  explicit BuildStoreHistory(build::BuildStore& store) : store_(store) {}

  absl::StatusOr<Page<build::BuildRecord>> ListBuilds(
      const std::optional<GitSha>& sha, const PageRequest& page) override {
    return store_.ListBuilds({.git_sha = sha}, page);
  }
  absl::StatusOr<build::BuildRecord> GetBuild(int64_t build_id) override {
    return store_.GetBuild(build_id);
  }

 private:
  build::BuildStore& store_;
};

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_ADAPTERS_BUILD_STORE_HISTORY_H_

#include "build-svc/tag_policy.h"

#include <algorithm>

#include "build-svc/branch_name.h"

namespace shapin::build {

PublishTarget ChooseTarget(absl::string_view branch,
                           const TagPolicyConfig& config) {
  const absl::string_view name = NormalizeBranchName(branch);
  const bool is_protected =
      !IsPullRequestRef(branch) &&
      std::any_of(config.protected_branches.begin(),
                  config.protected_branches.end(),
                  [&](const std::string& p) { return p == name; });
  if (is_protected) {
    return {RepositoryType::kCanonical, config.canonical_repository};
  }
  return {RepositoryType::kStaging, config.staging_repository};
}

std::vector<std::string> ShaTags(const GitSha& sha) {
  return {sha.str(), sha.short_sha()};
}

}  // namespace shapin::build

// Where a build publishes, and under which tags (FR-002, FR-012, FR-016).
//
// Protected branches publish to the canonical repository; every other branch
// and every pull request publishes to staging, with identical tag semantics.
// Pure rules: no I/O.
//
//   PublishTarget t = ChooseTarget(branch, config);
//   t.repository      // "ghcr.io/mconstant/pay2slay-api"
//   ShaTags(sha)      // {"<40 hex>", "<12 hex>"}
#ifndef SHAPIN_BUILD_SVC_TAG_POLICY_H_
#define SHAPIN_BUILD_SVC_TAG_POLICY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/git_sha.h"
#include "common/repository_type.h"

namespace shapin::build {

struct TagPolicyConfig {
  std::vector<std::string> protected_branches;
  std::string canonical_repository;
  std::string staging_repository;
};

struct PublishTarget {
  RepositoryType type;
  std::string repository;
};

// `branch` must already be valid (ValidateBranchName). Matching is exact on
// the normalised name: "main" protects "main", not "main-old".
PublishTarget ChooseTarget(absl::string_view branch,
                           const TagPolicyConfig& config);

// The tags every published image gets: the full SHA first, then the short.
std::vector<std::string> ShaTags(const GitSha& sha);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_TAG_POLICY_H_

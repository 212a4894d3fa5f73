// Branch names, validated by git's ref-name rules (git check-ref-format).
//
// A branch only ever selects the target repository and is recorded; it is
// never given shell meaning. Validating it anyway keeps junk (and control
// characters) out of logs, metrics labels and the database.
//
//   SHAPIN_RETURN_IF_ERROR(ValidateBranchName(request.branch()));
#ifndef SHAPIN_BUILD_SVC_BRANCH_NAME_H_
#define SHAPIN_BUILD_SVC_BRANCH_NAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shapin::build {

// INVALID_ARGUMENT "branch: …" unless `name` is a valid branch name: not
// empty, at most 255 bytes, no ASCII control characters, space, ~ ^ : ? * [
// or \, no "..", "@{", "//", no component starting with '.' or ending with
// ".lock", not starting or ending with '/', not ending with '.', not "@",
// not starting with '-'. A leading "refs/heads/" is accepted and removed by
// NormalizeBranchName.
absl::Status ValidateBranchName(absl::string_view name);

// "refs/heads/main" → "main"; other names unchanged.
absl::string_view NormalizeBranchName(absl::string_view name);

// Pull-request refs as CI systems pass them: "refs/pull/<n>/merge",
// "pull/<n>/head", "refs/merge-requests/<n>/head".
bool IsPullRequestRef(absl::string_view name);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BRANCH_NAME_H_

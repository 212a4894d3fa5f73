// Turning a SubmitBuild request into a NewBuild: every field validated,
// defaults applied, the target repository chosen. Pure rules: no I/O.
//
//   SHAPIN_ASSIGN_OR_RETURN(NewBuild b, ParseSubmission(fields, policy));
#ifndef SHAPIN_BUILD_SVC_BUILD_SUBMISSION_H_
#define SHAPIN_BUILD_SVC_BUILD_SUBMISSION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "build-svc/build_store.h"
#include "build-svc/tag_policy.h"

namespace shapin::build {

struct SubmissionPolicy {
  TagPolicyConfig tags;
  std::vector<std::string> allowed_source_schemes;
  std::string default_source_url;
};

struct SubmitFields {
  std::string git_sha;
  std::string branch;
  std::string source_url;
  std::string dockerfile;
  std::string context;
  bool rebuild = false;
  std::string requested_by;
};

// Errors name the field: MISSING_SHA for git_sha; INVALID_ARGUMENT
// "branch: …", "source_url: …", "dockerfile: …", "context: …",
// "requested_by: …".
absl::StatusOr<NewBuild> ParseSubmission(const SubmitFields& fields,
                                         const SubmissionPolicy& policy);

// The scheme of a git URL: "https", "ssh" (also for scp-like
// "git@host:path"), "file", …; empty when there is none.
std::string GitUrlScheme(absl::string_view url);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_SUBMISSION_H_

#include "build-svc/build_submission.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "build-svc/branch_name.h"
#include "common/request_fields.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxPathBytes = 255;
constexpr size_t kMaxRequestedByBytes = 128;

bool HasControlCharacters(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// A path inside the repository: relative, no "..", no control characters.
absl::StatusOr<std::string> RepoPath(absl::string_view field,
                                     absl::string_view value,
                                     absl::string_view fallback) {
  if (value.empty()) return std::string(fallback);
  if (value.size() > kMaxPathBytes || HasControlCharacters(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be at most ", kMaxPathBytes,
                     " bytes without control characters"));
  }
  if (value.front() == '/' || value.front() == '-') {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be a path relative to the repository root"));
  }
  for (absl::string_view part : absl::StrSplit(value, '/')) {
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must stay inside the repository (no \"..\")"));
    }
  }
  return std::string(value);
}

}  // namespace

std::string GitUrlScheme(absl::string_view url) {
  const size_t sep = url.find("://");
  if (sep != absl::string_view::npos) {
    return absl::AsciiStrToLower(url.substr(0, sep));
  }
  // scp-like syntax: [user@]host:path. Only plain user and host characters
  // before the colon, so transport syntax such as "ext::cmd" (a remote
  // helper running a command) never passes as ssh.
  const size_t colon = url.find(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      url.substr(colon + 1, 1) == ":") {
    return "";
  }
  const absl::string_view host = url.substr(0, colon);
  const bool plain = std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_' ||
           c == '@';
  });
  return plain ? "ssh" : "";
}

absl::StatusOr<NewBuild> ParseSubmission(const SubmitFields& f,
                                         const SubmissionPolicy& policy) {
  SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ParseShaField("git_sha", f.git_sha));
  SHAPIN_RETURN_IF_ERROR(ValidateBranchName(f.branch));

  std::string url =
      f.source_url.empty() ? policy.default_source_url : f.source_url;
  if (url.empty()) {
    return absl::InvalidArgumentError(
        "source_url: is required (no build.default_source_url is configured)");
  }
  if (url.size() > kMaxUrlBytes || HasControlCharacters(url) ||
      url.front() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("source_url: must be a git URL of at most ", kMaxUrlBytes,
                     " bytes, not starting with '-'"));
  }
  const std::string scheme = GitUrlScheme(url);
  if (std::find(policy.allowed_source_schemes.begin(),
                policy.allowed_source_schemes.end(),
                scheme) == policy.allowed_source_schemes.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source_url: scheme \"", scheme, "\" is not allowed (allowed: ",
        absl::StrJoin(policy.allowed_source_schemes, ", "), ")"));
  }
  if (f.requested_by.size() > kMaxRequestedByBytes ||
      HasControlCharacters(f.requested_by)) {
    return absl::InvalidArgumentError(
        absl::StrCat("requested_by: must be at most ", kMaxRequestedByBytes,
                     " bytes without control characters"));
  }

  NewBuild b(sha);
  b.branch = std::string(NormalizeBranchName(f.branch));
  b.source_url = std::move(url);
  SHAPIN_ASSIGN_OR_RETURN(b.dockerfile,
                          RepoPath("dockerfile", f.dockerfile, "Dockerfile"));
  SHAPIN_ASSIGN_OR_RETURN(b.context, RepoPath("context", f.context, "."));
  b.rebuild = f.rebuild;
  b.requested_by = f.requested_by;
  // A pull-request ref keeps its "refs/…" form for ChooseTarget to see.
  PublishTarget target = ChooseTarget(f.branch, policy.tags);
  b.repository = target.repository;
  b.repository_type = target.type;
  return b;
}

}  // namespace shapin::build

#include "build-svc/build_submission.h"

#include "common/error_code.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

using ::testing::HasSubstr;

const SubmissionPolicy kPolicy = {
    .tags = {.protected_branches = {"main"},
             .canonical_repository = "reg.example/app",
             .staging_repository = "reg.example/app-staging"},
    .allowed_source_schemes = {"https", "ssh", "file"},
    .default_source_url = "https://github.com/mconstant/pay2slay.git"};

SubmitFields Valid() {
  SubmitFields f;
  f.git_sha = std::string(40, 'a');
  f.branch = "main";
  return f;
}

TEST(BuildSubmissionTest, DefaultsAndCanonicalTarget) {
  absl::StatusOr<NewBuild> b = ParseSubmission(Valid(), kPolicy);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->source_url, kPolicy.default_source_url);
  EXPECT_EQ(b->dockerfile, "Dockerfile");
  EXPECT_EQ(b->context, ".");
  EXPECT_EQ(b->repository, "reg.example/app");
  EXPECT_EQ(b->repository_type, RepositoryType::kCanonical);
}

TEST(BuildSubmissionTest, FeatureBranchesAndPullRequestsGoToStaging) {
  for (const char* branch : {"feature/x", "refs/pull/3/merge"}) {
    SCOPED_TRACE(branch);
    SubmitFields f = Valid();
    f.branch = branch;
    absl::StatusOr<NewBuild> b = ParseSubmission(f, kPolicy);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->repository_type, RepositoryType::kStaging);
    EXPECT_EQ(b->repository, "reg.example/app-staging");
  }
  SubmitFields f = Valid();
  f.branch = "refs/heads/main";
  EXPECT_EQ(ParseSubmission(f, kPolicy)->branch, "main");
}

TEST(BuildSubmissionTest, UrlSchemes) {
  EXPECT_EQ(GitUrlScheme("https://github.com/a/b.git"), "https");
  EXPECT_EQ(GitUrlScheme("git@github.com:a/b.git"), "ssh");
  EXPECT_EQ(GitUrlScheme("ssh://git@github.com/a/b"), "ssh");
  EXPECT_EQ(GitUrlScheme("file:///srv/repo"), "file");
  EXPECT_EQ(GitUrlScheme("/srv/repo"), "");
  EXPECT_EQ(GitUrlScheme("ext::sh -c touch% /tmp/pwned"), "");
  EXPECT_EQ(GitUrlScheme("a b:c"), "");
}

TEST(BuildSubmissionTest, InvalidFieldsAreNamed) {
  struct Case {
    const char* name;
    std::function<void(SubmitFields&)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"sha", [](SubmitFields& f) { f.git_sha = "abc"; },
       "MISSING_SHA git_sha"},
      {"no sha", [](SubmitFields& f) { f.git_sha = ""; },
       "MISSING_SHA git_sha"},
      {"branch", [](SubmitFields& f) { f.branch = "a..b"; }, "branch: "},
      {"no branch", [](SubmitFields& f) { f.branch = ""; }, "branch: "},
      {"scheme", [](SubmitFields& f) { f.source_url = "http://x/y"; },
       "source_url: scheme \"http\" is not allowed"},
      {"no scheme", [](SubmitFields& f) { f.source_url = "/srv/repo"; },
       "source_url: scheme \"\""},
      {"option injection",
       [](SubmitFields& f) { f.source_url = "-uhttps://x"; }, "source_url: "},
      {"control", [](SubmitFields& f) { f.source_url = "https://x/\n"; },
       "source_url: "},
      {"dockerfile escape",
       [](SubmitFields& f) { f.dockerfile = "../etc/Dockerfile"; },
       "dockerfile: must stay inside"},
      {"dockerfile absolute", [](SubmitFields& f) { f.dockerfile = "/D"; },
       "dockerfile: must be a path relative"},
      {"context escape", [](SubmitFields& f) { f.context = "a/../../b"; },
       "context: must stay inside"},
      {"requested_by",
       [](SubmitFields& f) { f.requested_by = std::string(129, 'x'); },
       "requested_by: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SubmitFields f = Valid();
    c.mutate(f);
    absl::StatusOr<NewBuild> b = ParseSubmission(f, kPolicy);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(b.status().message()), HasSubstr(c.message));
  }
  SubmissionPolicy no_default = kPolicy;
  no_default.default_source_url = "";
  absl::StatusOr<NewBuild> b = ParseSubmission(Valid(), no_default);
  EXPECT_THAT(std::string(b.status().message()),
              HasSubstr("source_url: is required"));
}

}  // namespace
}  // namespace shapin::build

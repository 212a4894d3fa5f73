#include "build-svc/tag_policy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

using ::testing::ElementsAre;

const TagPolicyConfig kConfig = {
    .protected_branches = {"main", "release"},
    .canonical_repository = "ghcr.io/mconstant/pay2slay-api",
    .staging_repository = "ghcr.io/mconstant/pay2slay-api-staging"};

TEST(TagPolicyTest, ProtectedBranchesPublishCanonicalOthersStaging) {
  struct Case {
    const char* branch;
    RepositoryType want;
  };
  for (Case c : {Case{"main", RepositoryType::kCanonical},
                 Case{"refs/heads/main", RepositoryType::kCanonical},
                 Case{"release", RepositoryType::kCanonical},
                 Case{"main-old", RepositoryType::kStaging},
                 Case{"feature/main", RepositoryType::kStaging},
                 Case{"refs/pull/7/merge", RepositoryType::kStaging},
                 Case{"dependabot/npm/x", RepositoryType::kStaging}}) {
    SCOPED_TRACE(c.branch);
    PublishTarget t = ChooseTarget(c.branch, kConfig);
    EXPECT_EQ(t.type, c.want);
    EXPECT_EQ(t.repository, c.want == RepositoryType::kCanonical
                                ? kConfig.canonical_repository
                                : kConfig.staging_repository);
  }
}

TEST(TagPolicyTest, TagsAreFullThenShortSha) {
  GitSha sha = *GitSha::Parse("0123456789abcdef0123456789abcdef01234567");
  EXPECT_THAT(
      ShaTags(sha),
      ElementsAre("0123456789abcdef0123456789abcdef01234567", "0123456789ab"));
}

}  // namespace
}  // namespace shapin::build

#include "build-svc/branch_name.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

using ::testing::HasSubstr;

TEST(BranchNameTest, AcceptsWhatGitAccepts) {
  for (absl::string_view name :
       {"main", "feature/login", "release-1.2", "refs/heads/main", "a_b",
        "user/JIRA-12/x", "v1.0.0-rc1", "refs/pull/12/merge"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(ValidateBranchName(name).ok()) << ValidateBranchName(name);
  }
}

TEST(BranchNameTest, RejectsWhatGitRejectsNamingTheField) {
  struct Case {
    std::string name;
    const char* why;
  };
  const Case cases[] = {
      {"", "is required"},
      {"refs/heads/", "names no branch"},
      {"a b", "forbids"},
      {"a~1", "forbids"},
      {"a^", "forbids"},
      {"a:b", "forbids"},
      {"a?", "forbids"},
      {"a*", "forbids"},
      {"a[", "forbids"},
      {"a\\b", "forbids"},
      {std::string("a\nb"), "forbids"},
      {std::string("a\x7f"), "forbids"},
      {"@", "not a branch"},
      {"-rf", "start with '-'"},
      {"/a", "'/'"},
      {"a/", "'/'"},
      {"a.", "end with '.'"},
      {"a..b", "\"..\""},
      {"a@{1}", "\"@{\""},
      {"a//b", "\"//\""},
      {".hidden", "starting with '.'"},
      {"a/.b", "starting with '.'"},
      {"a.lock", ".lock"},
      {"a.lock/b", ".lock"},
      {std::string(256, 'a'), "255"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status s = ValidateBranchName(c.name);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr("branch: "));
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.why));
  }
}

TEST(BranchNameTest, PullRequestRefs) {
  EXPECT_TRUE(IsPullRequestRef("refs/pull/12/merge"));
  EXPECT_TRUE(IsPullRequestRef("pull/12/head"));
  EXPECT_TRUE(IsPullRequestRef("refs/merge-requests/3/head"));
  EXPECT_FALSE(IsPullRequestRef("main"));
  EXPECT_FALSE(IsPullRequestRef("pullout"));
  EXPECT_EQ(NormalizeBranchName("refs/heads/main"), "main");
}

}  // namespace
}  // namespace shapin::build

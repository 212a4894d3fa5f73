#include "common/git_sha.h"

#include "tests/support/status_matchers.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;

using ::shapin::testing::StatusIs;

constexpr absl::string_view kSha = "3f2a9c0b1d4e5f60718293a4b5c6d7e8f9012345";

TEST(GitShaTest, ParsesValidShas) {
  const struct {
    std::string text;
  } cases[] = {
      {std::string(kSha)},
      {std::string(40, '0')},
      {std::string(40, 'f')},
      {"0123456789abcdef0123456789abcdef01234567"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<GitSha> sha = GitSha::Parse(c.text);
    ASSERT_TRUE(sha.ok()) << sha.status();
    EXPECT_EQ(sha->str(), c.text);
    EXPECT_EQ(sha->short_sha(), c.text.substr(0, GitSha::kShortLength));
  }
}

TEST(GitShaTest, RejectsMalformedShas) {
  const struct {
    std::string name;
    std::string text;
    std::string message;
  } cases[] = {
      {"empty", "", "must be 40 lowercase hex characters, got 0"},
      {"abbreviated", "3f2a9c0b1d4e",
       "must be 40 lowercase hex characters, got 12"},
      {"one short", std::string(kSha.substr(1)),
       "must be 40 lowercase hex characters, got 39"},
      {"one long", absl::StrCat(kSha, "0"),
       "must be 40 lowercase hex characters, got 41"},
      {"trailing newline", absl::StrCat(kSha, "\n"),
       "must be 40 lowercase hex characters, got 41"},
      {"non-hex letter", absl::StrCat("3f2G", kSha.substr(4)),
       "invalid character 'G' at position 3"},
      {"upper-case hex", absl::StrCat("A", kSha.substr(1)),
       "invalid character 'A' at position 0 (must be lowercase)"},
      {"inner space", absl::StrCat(kSha.substr(0, 20), " ", kSha.substr(21)),
       "invalid character ' ' at position 20"},
      {"control byte escaped", absl::StrCat(kSha.substr(0, 39), "\n"),
       "invalid character '\\n' at position 39"},
      {"non-ascii byte escaped", absl::StrCat(kSha.substr(0, 39), "\xff"),
       "invalid character '\\xff' at position 39"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(
        GitSha::Parse(c.text),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(GitShaTest, MessageDoesNotNameAField) {
  // Callers prefix the field ("git_sha: ..."); the message must not.
  for (const std::string& text : {std::string("nope"), std::string(40, 'z')}) {
    SCOPED_TRACE(text);
    absl::StatusOr<GitSha> sha = GitSha::Parse(text);
    ASSERT_FALSE(sha.ok());
    EXPECT_THAT(std::string(sha.status().message()),
                ::testing::Not(HasSubstr("sha")));
  }
}

TEST(GitShaTest, ComparesByValue) {
  absl::StatusOr<GitSha> a = GitSha::Parse(std::string(40, 'a'));
  absl::StatusOr<GitSha> a2 = GitSha::Parse(std::string(40, 'a'));
  absl::StatusOr<GitSha> b = GitSha::Parse(std::string(40, 'b'));
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok());
  EXPECT_EQ(*a, *a2);
  EXPECT_NE(*a, *b);
  EXPECT_LT(*a, *b);
}

}  // namespace
}  // namespace shapin

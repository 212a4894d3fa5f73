#include "common/request_fields.h"

#include <string>
#include <vector>

#include "common/error_code.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(RequestFieldsTest, ShaErrorsAreMissingShaNamingTheField) {
  for (absl::string_view bad :
       {"", "abc", "3F2A000000000000000000000000000000000000",
        "3f2a00000000000000000000000000000000000g",
        "3f2a0000000000000000000000000000000000001"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<GitSha> sha = ParseShaField("image_sha", bad);
    ASSERT_FALSE(sha.ok());
    EXPECT_EQ(sha.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorCodeOf(sha.status()), ErrorCode::kMissingSha);
    EXPECT_THAT(std::string(sha.status().message()),
                StartsWith("MISSING_SHA image_sha: "));
  }
  absl::StatusOr<GitSha> ok =
      ParseShaField("git_sha", "3f2a000000000000000000000000000000000001");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->short_sha(), "3f2a00000000");
}

TEST(RequestFieldsTest, IdsArePositiveNumbers) {
  EXPECT_EQ(*ParseIdField("build_id", "42"), 42);
  for (absl::string_view bad : {"", "0", "-1", "x1", "1.5"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<int64_t> id = ParseIdField("build_id", bad);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(id.status().message()), HasSubstr("build_id"));
  }
}

}  // namespace
TEST(RequestFieldsTest, TextFieldsAreBoundedAndFreeOfControlCharacters) {
  EXPECT_TRUE(CheckTextField("reason", std::string(1024, 'x'), 1024).ok());
  EXPECT_TRUE(CheckTextField("reason", "", 1024).ok());
  struct Case {
    std::string value;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {std::string(1025, 'x'), "reason: at most 1024 bytes, got 1025"},
           {"two\nlines", "reason: must not contain control characters"},
           {"tab\there", "reason: must not contain control characters"},
           {std::string("nul\0x", 5), "reason: must not contain control"},
       }) {
    SCOPED_TRACE(c.want);
    absl::Status s = CheckTextField("reason", c.value, 1024);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.want));
  }
}

TEST(RequestFieldsTest, OversizedIdIsRefusedNamingTheField) {
  absl::StatusOr<int64_t> id =
      ParseIdField("build_id", std::string(10000, '1'));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(id.status().message()),
              StartsWith("build_id: at most 20 bytes"));
}

}  // namespace shapin

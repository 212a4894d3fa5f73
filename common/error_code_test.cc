#include "common/error_code.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

using ::testing::StartsWith;

TEST(ErrorCodeTest, EveryCodeHasItsFixedStatusAndName) {
  struct Case {
    ErrorCode code;
    absl::string_view name;
    absl::StatusCode status;
  };
  const Case cases[] = {
      {ErrorCode::kMissingSha, "MISSING_SHA",
       absl::StatusCode::kInvalidArgument},
      {ErrorCode::kMissingTag, "MISSING_TAG", absl::StatusCode::kNotFound},
      {ErrorCode::kPolicyViolation, "POLICY_VIOLATION",
       absl::StatusCode::kFailedPrecondition},
      {ErrorCode::kOnHold, "ON_HOLD", absl::StatusCode::kFailedPrecondition},
      {ErrorCode::kDigestMismatch, "DIGEST_MISMATCH",
       absl::StatusCode::kDataLoss},
      {ErrorCode::kVerifyToolError, "VERIFY_TOOL_ERROR",
       absl::StatusCode::kUnavailable},
      {ErrorCode::kPushFailure, "PUSH_FAILURE", absl::StatusCode::kUnavailable},
      {ErrorCode::kBuildFailure, "BUILD_FAILURE", absl::StatusCode::kAborted},
      {ErrorCode::kTargetFailure, "TARGET_FAILURE", absl::StatusCode::kAborted},
      {ErrorCode::kRolloutFailure, "ROLLOUT_FAILURE",
       absl::StatusCode::kAborted},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ErrorCodeName(c.code), c.name);
    EXPECT_EQ(StatusCodeFor(c.code), c.status);
    EXPECT_EQ(ParseErrorCode(c.name), c.code);
    absl::Status s = ShapinError(c.code, "something happened");
    EXPECT_EQ(s.code(), c.status);
    EXPECT_EQ(s.message(), absl::StrCat(c.name, " something happened"));
    EXPECT_EQ(ErrorCodeOf(s), c.code);
  }
}

TEST(ErrorCodeTest, CodeSurvivesWhenOnlyTheMessageIsKept) {
  // A status rebuilt from code + message (e.g. after crossing gRPC) still
  // yields its code from the first word.
  absl::Status original = ShapinError(ErrorCode::kMissingTag, "no tag abc");
  absl::Status copy(original.code(), original.message());
  EXPECT_EQ(ErrorCodeOf(copy), ErrorCode::kMissingTag);
}

TEST(ErrorCodeTest, UnrelatedStatusesCarryNoCode) {
  EXPECT_EQ(ErrorCodeOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(ErrorCodeOf(absl::InternalError("boom")), std::nullopt);
  EXPECT_EQ(ParseErrorCode("missing_sha"), std::nullopt);
  // The right word with the wrong status code is not ours.
  EXPECT_EQ(ErrorCodeOf(absl::InternalError("MISSING_TAG x")), std::nullopt);
  EXPECT_THAT(std::string(ShapinError(ErrorCode::kOnHold, "held").message()),
              StartsWith("ON_HOLD "));
}

}  // namespace
}  // namespace shapin

#include "cli/exit_code.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::cli {
namespace {

using ::testing::HasSubstr;

TEST(ExitCodeTest, ShapinCodesInTheMessageWinOverTheStatusClass) {
  struct Case {
    absl::StatusCode code;
    std::string message;
    int exit;
  };
  for (const Case& c : std::vector<Case>{
           {absl::StatusCode::kOk, "", kExitOk},
           {absl::StatusCode::kInvalidArgument,
            "MISSING_SHA image_sha: must be 40 lowercase hex", kExitMissingSha},
           {absl::StatusCode::kNotFound, "MISSING_TAG no tag 3f2a in repo",
            kExitMissingTag},
           {absl::StatusCode::kFailedPrecondition,
            "POLICY_VIOLATION only in staging", kExitPolicyViolation},
           {absl::StatusCode::kFailedPrecondition, "ON_HOLD local is held",
            kExitOnHold},
           {absl::StatusCode::kDataLoss, "DIGEST_MISMATCH a vs b",
            kExitDigestMismatch},
           {absl::StatusCode::kUnavailable, "VERIFY_TOOL_ERROR cosign",
            kExitVerifyToolError},
           {absl::StatusCode::kUnavailable, "PUSH_FAILURE 503",
            kExitPushFailure},
           {absl::StatusCode::kAborted, "BUILD_FAILURE exit 1",
            kExitBuildFailure},
           {absl::StatusCode::kAborted, "TARGET_FAILURE refused (deployment 3)",
            kExitTargetFailure},
           {absl::StatusCode::kAborted, "ROLLOUT_FAILURE unhealthy",
            kExitRolloutFailure},
           // A code word whose status does not match is not a shapin code.
           {absl::StatusCode::kInternal, "MISSING_TAG coincidence",
            kExitFailure},
           {absl::StatusCode::kInvalidArgument, "environment: is required",
            kExitInvalidArgument},
           {absl::StatusCode::kOutOfRange, "x", kExitInvalidArgument},
           {absl::StatusCode::kNotFound, "build 9 not found", kExitNotFound},
           {absl::StatusCode::kAborted, "deployment 4 in progress",
            kExitConflict},
           {absl::StatusCode::kFailedPrecondition, "x", kExitConflict},
           {absl::StatusCode::kUnauthenticated, "no token", kExitAuth},
           {absl::StatusCode::kPermissionDenied, "needs deployer", kExitAuth},
           {absl::StatusCode::kUnavailable, "failed to connect",
            kExitUnavailable},
           {absl::StatusCode::kDeadlineExceeded, "Deadline Exceeded",
            kExitUnavailable},
           {absl::StatusCode::kCancelled, "Cancelled", kExitCanceled},
           {absl::StatusCode::kInternal, "boom", kExitFailure},
       }) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(ExitCodeForStatus(absl::Status(c.code, c.message)), c.exit);
  }
}

TEST(ExitCodeTest, ErrorCodeFieldOfAFailedRecord) {
  EXPECT_EQ(ExitCodeForErrorName("BUILD_FAILURE"), kExitBuildFailure);
  EXPECT_EQ(ExitCodeForErrorName("DIGEST_MISMATCH"), kExitDigestMismatch);
  EXPECT_EQ(ExitCodeForErrorName(""), kExitFailure);
  EXPECT_EQ(ExitCodeForErrorName("SOMETHING_NEW"), kExitFailure);
}

TEST(ExitCodeTest, HelpListsEveryCode) {
  const std::string help = ExitCodeHelp();
  for (absl::string_view line :
       {"  0  success", "  2  bad command line", " 11  MISSING_TAG",
        " 13  ON_HOLD", " 19  ROLLOUT_FAILURE", "  7  UNAVAILABLE"}) {
    EXPECT_THAT(help, HasSubstr(line));
  }
}

}  // namespace
}  // namespace shapin::cli

// How the console answers the domain's errors: the HTTP status an operator
// sees for each kind of refusal or failure.
#include "deploy-svc/console/console_app.h"

#include "common/error_code.h"
#include "gtest/gtest.h"

namespace shapin::console {
namespace {

TEST(HttpStatusForTest, DomainErrorsMapToTheirHttpStatus) {
  EXPECT_EQ(HttpStatusFor(ShapinError(ErrorCode::kMissingSha, "sha: bad")),
            400);
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("reason: is required")),
            400);
  EXPECT_EQ(HttpStatusFor(absl::UnauthenticatedError("not signed in")), 401);
  EXPECT_EQ(HttpStatusFor(absl::PermissionDeniedError("lacks role operator")),
            403);
  EXPECT_EQ(HttpStatusFor(absl::NotFoundError("build 9 not found")), 404);
  EXPECT_EQ(HttpStatusFor(ShapinError(ErrorCode::kOnHold, "held")), 409);
  EXPECT_EQ(HttpStatusFor(absl::FailedPreconditionError("already running")),
            409);
  // Busy environment (the lock wait ran out).
  EXPECT_EQ(HttpStatusFor(absl::AbortedError("environment local is busy")),
            409);
  EXPECT_EQ(HttpStatusFor(ShapinError(ErrorCode::kDigestMismatch, "tag moved")),
            409);
  // The deployment ran and failed at the target: a bad gateway, not a 409.
  EXPECT_EQ(HttpStatusFor(ShapinError(ErrorCode::kRolloutFailure, "unhealthy")),
            502);
  EXPECT_EQ(HttpStatusFor(ShapinError(ErrorCode::kTargetFailure, "apply")),
            502);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("database")), 503);
  EXPECT_EQ(HttpStatusFor(absl::DeadlineExceededError("slow")), 504);
  EXPECT_EQ(HttpStatusFor(absl::InternalError("bug")), 500);
}

}  // namespace
}  // namespace shapin::console

#include "common/grpc_status.h"

#include "common/error_code.h"
#include "common/log.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

TEST(GrpcStatusTest, MapsEveryCodeOneToOne) {
  for (int c = 0; c <= 16; ++c) {
    SCOPED_TRACE(c);
    absl::Status s(static_cast<absl::StatusCode>(c), c == 0 ? "" : "msg");
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    if (c != 0) {
      EXPECT_EQ(g.error_message(), "msg");
    }
  }
}

TEST(GrpcStatusTest, ShapinErrorsKeepTheirNameAsFirstWord) {
  grpc::Status g = ToGrpcStatus(
      ShapinError(ErrorCode::kDigestMismatch, "tag x: sha256:aa != sha256:bb"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(g.error_message(), "DIGEST_MISMATCH tag x: sha256:aa != sha256:bb");
}

TEST(GrpcStatusTest, SecretsAreRedactedFromMessages) {
  Logger::Global().AddSecret("hunter2-registry-password");
  grpc::Status g = ToGrpcStatus(
      absl::UnavailableError("login with hunter2-registry-password failed"));
  EXPECT_EQ(g.error_message().find("hunter2"), std::string::npos);
  EXPECT_NE(g.error_message().find("[REDACTED]"), std::string::npos);
}

}  // namespace
}  // namespace shapin

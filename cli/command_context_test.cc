#include "cli/command_context.h"

#include "gtest/gtest.h"

namespace shapin::cli {
namespace {

TEST(CommandContextTest, EnumLabels) {
  EXPECT_EQ(EnumLabel("BUILD_STATE_SUCCEEDED", "BUILD_STATE_"), "succeeded");
  EXPECT_EQ(EnumLabel("DEPLOYMENT_KIND_ROLLBACK", "DEPLOYMENT_KIND_"),
            "rollback");
  EXPECT_EQ(EnumLabel("BUILD_OUTCOME_UNSPECIFIED", "BUILD_OUTCOME_"), "");
}

TEST(CommandContextTest, ErrorTextDoesNotRepeatTheCode) {
  EXPECT_EQ(ErrorText("", ""), "");
  EXPECT_EQ(ErrorText("ON_HOLD", "ON_HOLD local is held"),
            "ON_HOLD local is held");
  EXPECT_EQ(ErrorText("TARGET_FAILURE", "podman: exit 125"),
            "TARGET_FAILURE podman: exit 125");
  EXPECT_EQ(ErrorText("", "something odd"), "something odd");
}

TEST(CommandContextTest, JoinNonEmptyAndShortSha) {
  EXPECT_EQ(JoinNonEmpty({"local", "", "c0ffee"}), "local c0ffee");
  EXPECT_EQ(JoinNonEmpty({"", ""}), "");
  EXPECT_EQ(ShortSha("3f2a9c1d0b7e4a5f8c6d2e1b0a9f8e7d6c5b4a39"),
            "3f2a9c1d0b7e");
  EXPECT_EQ(ShortSha("abc"), "abc");
}

TEST(CommandContextTest, GrpcStatusKeepsCodeAndMessage) {
  absl::Status s =
      ToAbslStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "MISSING_TAG x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "MISSING_TAG x");
}

}  // namespace
}  // namespace shapin::cli

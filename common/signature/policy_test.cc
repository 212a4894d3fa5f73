#include "common/signature/policy.h"

#include <string>

#include "absl/status/status.h"
#include "common/error_code.h"
#include "common/signature/test_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::signature {
namespace {

using ::shapin::signature::testing::StatusIs;
using ::testing::HasSubstr;

VerificationResult Result(Reason reason, ProvenanceStatus provenance) {
  VerificationResult r;
  r.reason = reason;
  r.provenance_status = provenance;
  r.details = "sig[0]: details";
  r.provenance_details = "att[0]: details";
  r.signer = "key sha256:abc";
  return r;
}

TEST(SignaturePolicyTest, ParsesModes) {
  EXPECT_EQ(*ParsePolicyMode("soft"), PolicyMode::kSoft);
  EXPECT_EQ(*ParsePolicyMode("enforce"), PolicyMode::kEnforce);
  EXPECT_THAT(ParsePolicyMode("strict"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("soft or enforce")));
  EXPECT_EQ(PolicyModeName(PolicyMode::kEnforce), "enforce");
}

TEST(SignaturePolicyTest, Table) {
  const absl::Status tool_error =
      ShapinError(ErrorCode::kVerifyToolError, "registry unreachable");
  struct Case {
    std::string name;
    Policy policy;
    absl::StatusOr<VerificationResult> result;
    absl::StatusCode code;
    std::string message;
  };
  const Policy soft{PolicyMode::kSoft, false};
  const Policy enforce{PolicyMode::kEnforce, false};
  const Policy enforce_prov{PolicyMode::kEnforce, true};
  for (const Case& c : std::vector<Case>{
           {"soft verified", soft,
            Result(Reason::kVerified, ProvenanceStatus::kMissing),
            absl::StatusCode::kOk, ""},
           {"soft unverified", soft,
            Result(Reason::kNoSignature, ProvenanceStatus::kMissing),
            absl::StatusCode::kOk, ""},
           {"soft tool error", soft, tool_error, absl::StatusCode::kUnavailable,
            "VERIFY_TOOL_ERROR registry unreachable"},
           {"enforce verified", enforce,
            Result(Reason::kVerified, ProvenanceStatus::kMissing),
            absl::StatusCode::kOk, ""},
           {"enforce unverified", enforce,
            Result(Reason::kKeyMismatch, ProvenanceStatus::kMissing),
            absl::StatusCode::kFailedPrecondition,
            "POLICY_VIOLATION image signature key_mismatch: sig[0]: details"},
           {"enforce tool error", enforce, tool_error,
            absl::StatusCode::kUnavailable,
            "VERIFY_TOOL_ERROR registry unreachable"},
           {"enforce plain error", enforce, absl::InternalError("boom"),
            absl::StatusCode::kUnavailable, "VERIFY_TOOL_ERROR"},
           {"enforce provenance missing", enforce_prov,
            Result(Reason::kVerified, ProvenanceStatus::kMissing),
            absl::StatusCode::kFailedPrecondition,
            "POLICY_VIOLATION image provenance missing"},
           {"enforce provenance verified", enforce_prov,
            Result(Reason::kVerified, ProvenanceStatus::kVerified),
            absl::StatusCode::kOk, ""},
       }) {
    SCOPED_TRACE(c.name);
    absl::Status s = CheckPolicy(c.policy, c.result);
    EXPECT_THAT(s, StatusIs(c.code, HasSubstr(c.message)));
    if (c.code == absl::StatusCode::kFailedPrecondition) {
      EXPECT_EQ(ErrorCodeOf(s), ErrorCode::kPolicyViolation);
    }
    if (c.code == absl::StatusCode::kUnavailable) {
      EXPECT_EQ(ErrorCodeOf(s), ErrorCode::kVerifyToolError);
    }
  }
}

TEST(SignaturePolicyTest, DescribesOutcomes) {
  EXPECT_EQ(
      DescribeOutcome(Result(Reason::kVerified, ProvenanceStatus::kVerified)),
      "verified provenance=verified signer=key sha256:abc");
  EXPECT_EQ(
      DescribeOutcome(Result(Reason::kNoSignature, ProvenanceStatus::kMissing)),
      "unverified reason=no_signature provenance=missing");
  EXPECT_EQ(DescribeOutcome(ShapinError(ErrorCode::kVerifyToolError, "x")),
            "error VERIFY_TOOL_ERROR x");
  EXPECT_EQ(DescribeOutcome(absl::InternalError("y")),
            "error VERIFY_TOOL_ERROR y");
}

TEST(SignatureReasonNamesTest, AreStable) {
  EXPECT_EQ(ReasonName(Reason::kVerified), "verified");
  EXPECT_EQ(ReasonName(Reason::kNoSignature), "no_signature");
  EXPECT_EQ(ReasonName(Reason::kKeyMismatch), "key_mismatch");
  EXPECT_EQ(ReasonName(Reason::kDigestMismatch), "digest_mismatch");
  EXPECT_EQ(ReasonName(Reason::kUntrustedIdentity), "untrusted_identity");
  EXPECT_EQ(ReasonName(Reason::kInvalidBundle), "invalid_bundle");
  EXPECT_EQ(ReasonName(Reason::kInvalidSignature), "invalid_signature");
  EXPECT_EQ(ReasonName(Reason::kInvalidPayload), "invalid_payload");
  EXPECT_EQ(ReasonName(Reason::kNotConfigured), "not_configured");
  EXPECT_EQ(ProvenanceStatusName(ProvenanceStatus::kBuilderNotAllowed),
            "builder_not_allowed");
  EXPECT_EQ(ProvenanceStatusName(ProvenanceStatus::kCommitMismatch),
            "commit_mismatch");
}

}  // namespace
}  // namespace shapin::signature

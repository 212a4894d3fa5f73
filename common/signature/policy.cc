#include "common/signature/policy.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/error_code.h"

namespace shapin::signature {

absl::StatusOr<PolicyMode> ParsePolicyMode(absl::string_view text) {
  if (text == "soft") return PolicyMode::kSoft;
  if (text == "enforce") return PolicyMode::kEnforce;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown signature policy mode \"", text, "\" (soft or enforce)"));
}

absl::string_view PolicyModeName(PolicyMode mode) {
  return mode == PolicyMode::kEnforce ? "enforce" : "soft";
}

absl::Status CheckPolicy(const Policy& policy,
                         const absl::StatusOr<VerificationResult>& result) {
  if (!result.ok()) {
    if (ErrorCodeOf(result.status()) == ErrorCode::kVerifyToolError) {
      return result.status();
    }
    return ShapinError(ErrorCode::kVerifyToolError,
                       absl::StrCat("signature verification failed: ",
                                    result.status().message()));
  }
  if (policy.mode == PolicyMode::kSoft) return absl::OkStatus();
  if (result->status() != VerificationStatus::kVerified) {
    return ShapinError(
        ErrorCode::kPolicyViolation,
        absl::StrCat("image signature ", ReasonName(result->reason), ": ",
                     result->details));
  }
  if (policy.require_provenance &&
      result->provenance_status != ProvenanceStatus::kVerified) {
    return ShapinError(
        ErrorCode::kPolicyViolation,
        absl::StrCat("image provenance ",
                     ProvenanceStatusName(result->provenance_status), ": ",
                     result->provenance_details));
  }
  return absl::OkStatus();
}

std::string DescribeOutcome(const absl::StatusOr<VerificationResult>& result) {
  if (!result.ok()) {
    std::optional<ErrorCode> code = ErrorCodeOf(result.status());
    if (code.has_value()) {
      return absl::StrCat("error ", result.status().message());
    }
    return absl::StrCat("error VERIFY_TOOL_ERROR ", result.status().message());
  }
  if (result->status() == VerificationStatus::kVerified) {
    return absl::StrCat(
        "verified provenance=", ProvenanceStatusName(result->provenance_status),
        " signer=", result->signer);
  }
  return absl::StrCat(
      "unverified reason=", ReasonName(result->reason),
      " provenance=", ProvenanceStatusName(result->provenance_status));
}

}  // namespace shapin::signature

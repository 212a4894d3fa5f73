// Signature policy: what a verification outcome means for a deployment.
//
//   soft     (default) an unverified image is recorded and the deployment
//            proceeds;
//   enforce  an unverified image (or, with require_provenance, one whose
//            provenance is not verified) fails with POLICY_VIOLATION.
// In both modes a verifier that could not do its job (registry unreachable,
// OpenSSL failing) fails with VERIFY_TOOL_ERROR: no result was determined.
//
//   SHAPIN_ASSIGN_OR_RETURN(PolicyMode mode, ParsePolicyMode(config_value));
//   absl::StatusOr<VerificationResult> r = VerifyImageInRegistry(...);
//   record.signature_outcome = DescribeOutcome(r);
//   SHAPIN_RETURN_IF_ERROR(CheckPolicy({.mode = mode}, r));
#ifndef SHAPIN_COMMON_SIGNATURE_POLICY_H_
#define SHAPIN_COMMON_SIGNATURE_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signature/verification_result.h"

namespace shapin::signature {

enum class PolicyMode { kSoft, kEnforce };

// "soft" or "enforce"; INVALID_ARGUMENT naming both otherwise.
absl::StatusOr<PolicyMode> ParsePolicyMode(absl::string_view text);
absl::string_view PolicyModeName(PolicyMode mode);

struct Policy {
  PolicyMode mode = PolicyMode::kSoft;
  // In enforce mode, also require provenance_status == verified.
  bool require_provenance = false;
};

// OK when the deployment may proceed. An error status is VERIFY_TOOL_ERROR
// in both modes (its code kept when it already carries one). In enforce
// mode an unverified result is POLICY_VIOLATION ("POLICY_VIOLATION image
// signature key_mismatch: …"); in soft mode it is OK — record
// DescribeOutcome(result).
absl::Status CheckPolicy(const Policy& policy,
                         const absl::StatusOr<VerificationResult>& result);

// A one-line record of the outcome: "verified provenance=verified signer=…",
// "unverified reason=no_signature provenance=missing",
// "error VERIFY_TOOL_ERROR registry …".
std::string DescribeOutcome(const absl::StatusOr<VerificationResult>& result);

}  // namespace shapin::signature

#endif  // SHAPIN_COMMON_SIGNATURE_POLICY_H_

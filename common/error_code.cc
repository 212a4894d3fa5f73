#include "common/error_code.h"

#include <array>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace shapin {
namespace {

// Type URL of the payload that carries the code through absl::Status.
constexpr absl::string_view kPayloadUrl = "type.shapin.dev/shapin.v1.ErrorCode";

struct CodeInfo {
  ErrorCode code;
  absl::string_view name;
  absl::StatusCode status;
};

constexpr std::array<CodeInfo, 10> kCodes = {{
    {ErrorCode::kMissingSha, "MISSING_SHA", absl::StatusCode::kInvalidArgument},
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
    {ErrorCode::kRolloutFailure, "ROLLOUT_FAILURE", absl::StatusCode::kAborted},
}};

const CodeInfo& InfoOf(ErrorCode code) {
  for (const CodeInfo& info : kCodes) {
    if (info.code == code) return info;
  }
  return kCodes[0];  // Unreachable: every enumerator is in the table.
}

}  // namespace

absl::string_view ErrorCodeName(ErrorCode code) { return InfoOf(code).name; }

absl::StatusCode StatusCodeFor(ErrorCode code) { return InfoOf(code).status; }

std::optional<ErrorCode> ParseErrorCode(absl::string_view name) {
  for (const CodeInfo& info : kCodes) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

absl::Status ShapinError(ErrorCode code, absl::string_view message) {
  const CodeInfo& info = InfoOf(code);
  absl::Status status(info.status, absl::StrCat(info.name, " ", message));
  status.SetPayload(kPayloadUrl, absl::Cord(info.name));
  return status;
}

std::optional<ErrorCode> ErrorCodeOf(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  if (auto payload = status.GetPayload(kPayloadUrl); payload.has_value()) {
    return ParseErrorCode(std::string(*payload));
  }
  absl::string_view message = status.message();
  std::optional<ErrorCode> code =
      ParseErrorCode(message.substr(0, message.find(' ')));
  // A code whose status does not match is a coincidence of words, not ours.
  if (code && StatusCodeFor(*code) != status.code()) return std::nullopt;
  return code;
}

}  // namespace shapin

// The API's error codes and their fixed mapping onto status codes.
//
// A failing call carries its code twice: as the first word of the status
// message ("MISSING_TAG no tag 3f2a… in ghcr.io/…") for people and grpcurl
// users, and as a status payload for code that records it (error_code columns).
//
//   return ShapinError(ErrorCode::kMissingTag,
//                      absl::StrCat("no tag ", sha, " in ", repo));
//   ...
//   std::optional<ErrorCode> code = ErrorCodeOf(status);
#ifndef SHAPIN_COMMON_ERROR_CODE_H_
#define SHAPIN_COMMON_ERROR_CODE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shapin {

enum class ErrorCode {
  kMissingSha,       // INVALID_ARGUMENT
  kMissingTag,       // NOT_FOUND
  kPolicyViolation,  // FAILED_PRECONDITION
  kOnHold,           // FAILED_PRECONDITION
  kDigestMismatch,   // DATA_LOSS
  kVerifyToolError,  // UNAVAILABLE
  kPushFailure,      // UNAVAILABLE
  kBuildFailure,     // ABORTED
  kTargetFailure,    // ABORTED
  kRolloutFailure,   // ABORTED
};

// "MISSING_SHA", "MISSING_TAG", …
absl::string_view ErrorCodeName(ErrorCode code);
absl::StatusCode StatusCodeFor(ErrorCode code);
std::optional<ErrorCode> ParseErrorCode(absl::string_view name);

// A status with StatusCodeFor(code), message "<NAME> <message>", and the
// code as payload.
absl::Status ShapinError(ErrorCode code, absl::string_view message);

// The code carried by `status`, if any (payload first, then the first word of
// the message).
std::optional<ErrorCode> ErrorCodeOf(const absl::Status& status);

}  // namespace shapin

#endif  // SHAPIN_COMMON_ERROR_CODE_H_

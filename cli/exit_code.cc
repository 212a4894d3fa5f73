#include "cli/exit_code.h"

#include <array>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/error_code.h"

namespace shapin::cli {
namespace {

struct CodeExit {
  ErrorCode code;
  ExitCode exit;
};

constexpr std::array<CodeExit, 10> kCodeExits = {{
    {ErrorCode::kMissingSha, kExitMissingSha},
    {ErrorCode::kMissingTag, kExitMissingTag},
    {ErrorCode::kPolicyViolation, kExitPolicyViolation},
    {ErrorCode::kOnHold, kExitOnHold},
    {ErrorCode::kDigestMismatch, kExitDigestMismatch},
    {ErrorCode::kVerifyToolError, kExitVerifyToolError},
    {ErrorCode::kPushFailure, kExitPushFailure},
    {ErrorCode::kBuildFailure, kExitBuildFailure},
    {ErrorCode::kTargetFailure, kExitTargetFailure},
    {ErrorCode::kRolloutFailure, kExitRolloutFailure},
}};

int ExitCodeFor(ErrorCode code) {
  for (const CodeExit& e : kCodeExits) {
    if (e.code == code) return e.exit;
  }
  return kExitFailure;
}

int ExitCodeForStatusCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitInvalidArgument;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return kExitConflict;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return kExitUnavailable;
    case absl::StatusCode::kCancelled:
      return kExitCanceled;
    default:
      return kExitFailure;
  }
}

}  // namespace

int ExitCodeForStatus(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  // ErrorCodeOf checks that the code's fixed gRPC status matches, so a
  // message that merely starts with a code-like word is not misread.
  if (std::optional<ErrorCode> code = ErrorCodeOf(status)) {
    return ExitCodeFor(*code);
  }
  return ExitCodeForStatusCode(status.code());
}

int ExitCodeForErrorName(absl::string_view error_code) {
  std::optional<ErrorCode> code = ParseErrorCode(error_code);
  return code ? ExitCodeFor(*code) : kExitFailure;
}

std::string ExitCodeHelp() {
  std::string out;
  auto line = [&out](int exit, absl::string_view what) {
    absl::StrAppend(&out, absl::StrFormat("  %3d  %s\n", exit, what));
  };
  line(kExitOk, "success");
  line(kExitFailure, "other failure (internal error, failed without a code)");
  line(kExitUsage, "bad command line (nothing was sent)");
  line(kExitInvalidArgument, "INVALID_ARGUMENT without a shapin code");
  line(kExitNotFound, "NOT_FOUND without a shapin code (unknown id, ...)");
  line(kExitConflict, "FAILED_PRECONDITION / ABORTED without a shapin code");
  line(kExitAuth, "UNAUTHENTICATED / PERMISSION_DENIED (token, role)");
  line(kExitUnavailable,
       "UNAVAILABLE / DEADLINE_EXCEEDED (server unreachable)");
  line(kExitCanceled, "the build was canceled");
  for (const CodeExit& e : kCodeExits) {
    line(e.exit, ErrorCodeName(e.code));
  }
  return out;
}

}  // namespace shapin::cli

// The `shapin` CLI's exit codes: what a script can branch on.
//
// A failed call carries a shapin error code as the first word of its status
// message (common/error_code.h); each code has its own exit code, so a CI job
// can tell "the tag is missing" (11) from "the environment is held" (13)
// without parsing text. Failures without a shapin code fall back to a class
// of the gRPC status code.
//
//   grpc::Status s = stub->Deploy(&ctx, request, &reply);
//   if (!s.ok()) return ExitCodeForStatus(ToAbslStatus(s));
//   ...
//   if (build.state() == v1::BUILD_STATE_FAILED)
//     return ExitCodeForErrorName(build.error_code());
#ifndef SHAPIN_CLI_EXIT_CODE_H_
#define SHAPIN_CLI_EXIT_CODE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shapin::cli {

// Fixed values: scripts depend on them, so never renumber.
enum ExitCode : int {
  kExitOk = 0,
  // Any failure not covered below (INTERNAL, UNKNOWN, a build that ended
  // FAILED without an error code, …).
  kExitFailure = 1,
  // The command line itself is wrong (unknown command or flag, missing
  // argument); nothing was sent.
  kExitUsage = 2,
  // Server-side classes, when the message carries no shapin error code.
  kExitInvalidArgument = 3,  // INVALID_ARGUMENT, OUT_OF_RANGE
  kExitNotFound = 4,         // NOT_FOUND
  kExitConflict = 5,         // FAILED_PRECONDITION, ABORTED, ALREADY_EXISTS
  kExitAuth = 6,             // UNAUTHENTICATED, PERMISSION_DENIED
  kExitUnavailable = 7,  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
  kExitCanceled = 8,     // a watched build ended CANCELED, or CANCELLED
  // One per shapin error code (common.proto).
  kExitMissingSha = 10,
  kExitMissingTag = 11,
  kExitPolicyViolation = 12,
  kExitOnHold = 13,
  kExitDigestMismatch = 14,
  kExitVerifyToolError = 15,
  kExitPushFailure = 16,
  kExitBuildFailure = 17,
  kExitTargetFailure = 18,
  kExitRolloutFailure = 19,
};

// The exit code for a failed call: its shapin error code if the message
// starts with one whose gRPC code matches, else the class of the status code.
// kExitOk for an OK status.
int ExitCodeForStatus(const absl::Status& status);

// The exit code for an `error_code` field of a FAILED build or deployment
// ("BUILD_FAILURE" → 17); kExitFailure for an empty or unknown name.
int ExitCodeForErrorName(absl::string_view error_code);

// The table of exit codes as shown by `shapin --help` (one line per code).
std::string ExitCodeHelp();

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_EXIT_CODE_H_

// Validation of request fields shared by the gRPC edges: each error names the
// field, so a caller knows what to fix. Every free-text field has a size
// limit here (the server also caps whole requests at 64 KiB).
//
//   SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ParseShaField("git_sha",
//   req.git_sha()));
//   SHAPIN_RETURN_IF_ERROR(CheckTextField("reason", req.reason(),
//                                         kMaxReasonBytes));
#ifndef SHAPIN_COMMON_REQUEST_FIELDS_H_
#define SHAPIN_COMMON_REQUEST_FIELDS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/git_sha.h"

namespace shapin {

// Size limits of request fields, in bytes.
inline constexpr size_t kMaxRequestedByBytes = 128;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr size_t kMaxSourceUrlBytes = 2048;
inline constexpr size_t kMaxRepoPathBytes = 255;  // dockerfile, context
inline constexpr size_t kMaxBranchBytes = 255;
inline constexpr size_t kMaxIdBytes = 20;  // build_id, deployment_id
inline constexpr size_t kMaxPageTokenBytes = 32;

// INVALID_ARGUMENT "<field>: at most <max> bytes, got <n>" or "<field>: must
// not contain control characters" (tab and newline included). The value is
// never quoted back.
absl::Status CheckTextField(absl::string_view field, absl::string_view value,
                            size_t max_bytes);

// MISSING_SHA (INVALID_ARGUMENT) "<field>: is required" or
// "<field>: must be 40 lowercase hex characters, …".
absl::StatusOr<GitSha> ParseShaField(absl::string_view field,
                                     absl::string_view value);

// INVALID_ARGUMENT unless `value` is a positive decimal id.
absl::StatusOr<int64_t> ParseIdField(absl::string_view field,
                                     absl::string_view value);

}  // namespace shapin

#endif  // SHAPIN_COMMON_REQUEST_FIELDS_H_

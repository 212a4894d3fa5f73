// Validation of request fields shared by the gRPC edges: each error names the
// field, so a caller knows what to fix.
//
//   SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ParseShaField("git_sha",
//   req.git_sha()));
#ifndef SHAPIN_COMMON_REQUEST_FIELDS_H_
#define SHAPIN_COMMON_REQUEST_FIELDS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/git_sha.h"

namespace shapin {

// MISSING_SHA (INVALID_ARGUMENT) "<field>: is required" or
// "<field>: must be 40 lowercase hex characters, …".
absl::StatusOr<GitSha> ParseShaField(absl::string_view field,
                                     absl::string_view value);

// INVALID_ARGUMENT unless `value` is a positive decimal id.
absl::StatusOr<int64_t> ParseIdField(absl::string_view field,
                                     absl::string_view value);

}  // namespace shapin

#endif  // SHAPIN_COMMON_REQUEST_FIELDS_H_

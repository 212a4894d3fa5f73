// Early-return helpers for absl::Status / absl::StatusOr.
//
// The Abseil packaged in Debian 12 has no ABSL_RETURN_IF_ERROR, so the project
// keeps these two with its own prefix.
//
//   SHAPIN_RETURN_IF_ERROR(store.Insert(build));
//   SHAPIN_ASSIGN_OR_RETURN(GitSha sha, GitSha::Parse(text));
#ifndef SHAPIN_COMMON_STATUS_MACROS_H_
#define SHAPIN_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SHAPIN_RETURN_IF_ERROR(expr)                                    \
  do {                                                                  \
    if (::absl::Status shapin_status_ = (expr); !shapin_status_.ok()) { \
      return shapin_status_;                                            \
    }                                                                   \
  } while (false)

#define SHAPIN_STATUS_CONCAT_INNER_(a, b) a##b
#define SHAPIN_STATUS_CONCAT_(a, b) SHAPIN_STATUS_CONCAT_INNER_(a, b)

#define SHAPIN_ASSIGN_OR_RETURN(lhs, expr) \
  SHAPIN_ASSIGN_OR_RETURN_IMPL_(           \
      SHAPIN_STATUS_CONCAT_(shapin_statusor_, __LINE__), lhs, expr)

#define SHAPIN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SHAPIN_COMMON_STATUS_MACROS_H_

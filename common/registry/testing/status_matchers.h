// StatusIs / IsOk matchers for absl::Status and absl::StatusOr in tests (the
// Abseil in Debian 12 has no status_matchers.h).
//
//   EXPECT_THAT(client->Resolve(ref),
//               StatusIs(absl::StatusCode::kNotFound,
//               HasSubstr("MISSING_TAG")));
#ifndef SHAPIN_COMMON_REGISTRY_TESTING_STATUS_MATCHERS_H_
#define SHAPIN_COMMON_REGISTRY_TESTING_STATUS_MATCHERS_H_

#include "tests/support/status_matchers.h"

namespace shapin::registry::testing {

// One definition for the whole project (tests/support); the registry's tests
// use it under this namespace.
using ::shapin::testing::GetStatus;
using ::shapin::testing::IsOk;
using ::shapin::testing::IsOkAndHolds;
using ::shapin::testing::StatusIs;

}  // namespace shapin::registry::testing

#endif  // SHAPIN_COMMON_REGISTRY_TESTING_STATUS_MATCHERS_H_

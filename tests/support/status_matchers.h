// StatusIs / IsOk / IsOkAndHolds matchers for absl::Status and
// absl::StatusOr in tests (the Abseil in Debian 12 ships no
// status_matchers.h). Header-only.
//
//   EXPECT_THAT(GitSha::Parse("xyz"),
//               StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("40")));
//   EXPECT_THAT(client->Resolve(ref), IsOk());
#ifndef SHAPIN_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define SHAPIN_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"

namespace shapin::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P2(
    StatusIs, code, message_matcher,
    absl::StrCat(negation ? "isn't" : "is", " a status with code ",
                 absl::StatusCodeToString(code), " and a message that ",
                 ::testing::DescribeMatcher<std::string>(message_matcher))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(s.message()), result_listener);
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

}  // namespace shapin::testing

#endif  // SHAPIN_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include "common/registry/retry_transport.h"

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

using ::shapin::registry::testing::FakeClock;
using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::StatusIs;

// Plays back a fixed sequence of outcomes (the real-registry tests cover
// the same behaviour end to end; this pins down the arithmetic).
class ScriptedTransport : public HttpTransport {
 public:
  explicit ScriptedTransport(std::deque<absl::StatusOr<HttpResponse>> script)
      : script_(std::move(script)) {}
  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest&) override {
    ++calls;
    absl::StatusOr<HttpResponse> r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  int calls = 0;

 private:
  std::deque<absl::StatusOr<HttpResponse>> script_;
};

HttpResponse Status(
    int code, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = code;
  r.headers = std::move(headers);
  return r;
}

TEST(IsRetryableTest, Predicate) {
  for (int code : {408, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(IsRetryable(Status(code))) << code;
  }
  for (int code : {200, 201, 400, 401, 403, 404, 405, 501}) {
    EXPECT_FALSE(IsRetryable(Status(code))) << code;
  }
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("reset")));
  EXPECT_FALSE(IsRetryable(absl::FailedPreconditionError("tls")));
  EXPECT_FALSE(IsRetryable(absl::DeadlineExceededError("late")));
}

TEST(RetryAfterTest, SecondsAndDates) {
  absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(RetryAfter(Status(429, {{"retry-after", "7"}}), now),
            absl::Seconds(7));
  // 1700000000 = Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(
      RetryAfter(
          Status(503, {{"retry-after", "Tue, 14 Nov 2023 22:13:30 GMT"}}), now),
      absl::Seconds(10));
  EXPECT_EQ(RetryAfter(Status(503, {{"retry-after", "soon"}}), now),
            std::nullopt);
  EXPECT_EQ(RetryAfter(Status(503), now), std::nullopt);
}

TEST(RetryTransportTest, BacksOffExponentiallyWithJitterThenSucceeds) {
  auto inner = std::make_unique<ScriptedTransport>(
      std::deque<absl::StatusOr<HttpResponse>>{
          absl::UnavailableError("connection refused"), Status(502),
          Status(503), Status(200)});
  ScriptedTransport* script = inner.get();
  FakeClock clock;
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.jitter = 0.2;
  RetryTransport retry(std::move(inner), policy, &clock);
  HttpRequest req;
  req.url = "https://r.io/v2/";
  absl::StatusOr<HttpResponse> r = retry.RoundTrip(req);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(script->calls, 4);
  std::vector<absl::Duration> sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  for (size_t i = 0; i < sleeps.size(); ++i) {
    absl::Duration base = absl::Milliseconds(100) * (1 << i);
    EXPECT_GE(sleeps[i], base * 0.8) << i;
    EXPECT_LE(sleeps[i], base * 1.2) << i;
  }
}

TEST(RetryTransportTest, HonoursRetryAfterUpToTheCap) {
  auto inner = std::make_unique<ScriptedTransport>(
      std::deque<absl::StatusOr<HttpResponse>>{
          Status(429, {{"retry-after", "5"}}),
          Status(429, {{"retry-after", "3600"}}), Status(200)});
  FakeClock clock;
  RetryPolicy policy;
  policy.max_retry_after = absl::Seconds(30);
  RetryTransport retry(std::move(inner), policy, &clock);
  HttpRequest req;
  ASSERT_THAT(retry.RoundTrip(req), IsOk());
  EXPECT_THAT(clock.sleeps(),
              ::testing::ElementsAre(absl::Seconds(5), absl::Seconds(30)));
}

TEST(RetryTransportTest, BoundedAttemptsReturnTheLastOutcome) {
  auto inner = std::make_unique<ScriptedTransport>(
      std::deque<absl::StatusOr<HttpResponse>>{Status(500), Status(500),
                                               Status(503)});
  FakeClock clock;
  RetryPolicy policy;
  policy.max_attempts = 3;
  RetryTransport retry(std::move(inner), policy, &clock);
  HttpRequest req;
  absl::StatusOr<HttpResponse> r = retry.RoundTrip(req);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(clock.sleeps().size(), 2u);
}

TEST(RetryTransportTest, NeverSleepsPastTheDeadline) {
  auto inner = std::make_unique<ScriptedTransport>(
      std::deque<absl::StatusOr<HttpResponse>>{absl::UnavailableError("reset"),
                                               Status(200)});
  FakeClock clock;
  RetryPolicy policy;
  policy.initial_backoff = absl::Seconds(10);
  RetryTransport retry(std::move(inner), policy, &clock);
  HttpRequest req;
  req.deadline = clock.Now() + absl::Seconds(1);
  EXPECT_THAT(retry.RoundTrip(req), StatusIs(absl::StatusCode::kUnavailable,
                                             ::testing::HasSubstr("reset")));
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(RetryTransportTest, DoesNotRetryPermanentErrors) {
  auto inner = std::make_unique<ScriptedTransport>(
      std::deque<absl::StatusOr<HttpResponse>>{Status(404)});
  FakeClock clock;
  RetryTransport retry(std::move(inner), RetryPolicy{}, &clock);
  HttpRequest req;
  absl::StatusOr<HttpResponse> r = retry.RoundTrip(req);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(clock.sleeps().empty());
}

}  // namespace
}  // namespace shapin::registry

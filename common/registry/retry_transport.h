// RetryTransport: bounded retries of temporary failures.
//
// Temporary (the predicate, IsRetryable): no response at all with
// UNAVAILABLE (connection refused/reset, attempt timed out), and HTTP 408,
// 429, 500, 502, 503, 504. Waits initial_backoff·multiplier^n with ±jitter,
// capped at max_backoff; a Retry-After header (seconds or HTTP date) wins
// when it is longer, up to max_retry_after. Never sleeps past the request's
// deadline: then the last response or error is returned. The sink of a
// streamed request is Reset() before each retried attempt. A request with
// `retry = false` gets exactly one attempt.
//
//   RetryPolicy policy;
//   policy.max_attempts = 4;
//   RetryTransport retry(std::move(auth), policy, clock);
#ifndef SHAPIN_COMMON_REGISTRY_RETRY_TRANSPORT_H_
#define SHAPIN_COMMON_REGISTRY_RETRY_TRANSPORT_H_

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"

namespace shapin::registry {

struct RetryPolicy {
  // Attempts in total (1 = no retry).
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(8);
  double multiplier = 2.0;
  // Each wait is scaled by a uniform factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
  // Longest Retry-After honoured; longer ones are cut to this.
  absl::Duration max_retry_after = absl::Seconds(60);
};

// Whether a round trip's outcome is worth another attempt.
bool IsRetryable(const absl::StatusOr<HttpResponse>& outcome);

// The wait a response asks for via Retry-After (delta-seconds or an
// IMF-fixdate relative to `now`); nullopt when absent or unparsable.
std::optional<absl::Duration> RetryAfter(const HttpResponse& response,
                                         absl::Time now);

class RetryTransport : public HttpTransport {
 public:
  // `clock` must outlive this transport.
  RetryTransport(std::unique_ptr<HttpTransport> inner, RetryPolicy policy,
                 Clock* clock);

  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override;

 private:
  absl::Duration Backoff(int retry);

  std::unique_ptr<HttpTransport> inner_;
  RetryPolicy policy_;
  Clock* clock_;
  absl::Mutex mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_RETRY_TRANSPORT_H_

#include "common/registry/retry_transport.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/registry/http.h"

namespace shapin::registry {

bool IsRetryable(const absl::StatusOr<HttpResponse>& outcome) {
  if (!outcome.ok()) {
    return outcome.status().code() == absl::StatusCode::kUnavailable;
  }
  switch (outcome->status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

std::optional<absl::Duration> RetryAfter(const HttpResponse& response,
                                         absl::Time now) {
  std::optional<std::string> value = response.Header("retry-after");
  if (!value.has_value() || value->empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(*value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", *value, &when, &err)) {
    return std::max(absl::ZeroDuration(), when - now);
  }
  return std::nullopt;
}

RetryTransport::RetryTransport(std::unique_ptr<HttpTransport> inner,
                               RetryPolicy policy, Clock* clock)
    : inner_(std::move(inner)), policy_(policy), clock_(clock) {}

absl::Duration RetryTransport::Backoff(int retry) {
  double factor = std::pow(policy_.multiplier, retry);
  absl::Duration base =
      std::min(policy_.max_backoff, policy_.initial_backoff * factor);
  double jitter = 1.0;
  if (policy_.jitter > 0) {
    absl::MutexLock lock(&mu_);
    jitter = absl::Uniform(rng_, 1.0 - policy_.jitter, 1.0 + policy_.jitter);
  }
  return base * jitter;
}

absl::StatusOr<HttpResponse> RetryTransport::RoundTrip(
    const HttpRequest& request) {
  int max_attempts = request.retry ? std::max(1, policy_.max_attempts) : 1;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> outcome = inner_->RoundTrip(request);
    if (attempt >= max_attempts || !IsRetryable(outcome)) return outcome;

    absl::Duration wait = Backoff(attempt - 1);
    if (outcome.ok()) {
      if (std::optional<absl::Duration> after =
              RetryAfter(*outcome, clock_->Now());
          after.has_value()) {
        wait = std::max(wait, std::min(*after, policy_.max_retry_after));
      }
    }
    if (clock_->Now() + wait >= request.deadline) return outcome;
    LogWarning(
        "registry_retry",
        {{"method", request.method},
         {"url", RedactUrl(request.url)},
         {"outcome", outcome.ok() ? absl::StrCat("HTTP ", outcome->status)
                                  : std::string(outcome.status().message())},
         {"attempt", attempt},
         {"max_attempts", max_attempts},
         {"backoff_ms", absl::ToInt64Milliseconds(wait)}});
    clock_->Sleep(wait);
    if (request.sink != nullptr) {
      if (absl::Status s = request.sink->Reset(); !s.ok()) return s;
    }
  }
}

}  // namespace shapin::registry

// FakeClock: a Clock whose Sleep() returns at once and only advances Now().
// Records every sleep; an optional hook runs on each Sleep (e.g. to restart
// a stopped registry "during" the backoff).
//
//   FakeClock clock;
//   options.clock = &clock;
//   ... EXPECT_EQ(clock.sleeps().size(), 2);
#ifndef SHAPIN_COMMON_REGISTRY_TESTING_FAKE_CLOCK_H_
#define SHAPIN_COMMON_REGISTRY_TESTING_FAKE_CLOCK_H_

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"

namespace shapin::registry::testing {

class FakeClock : public Clock {
 public:
  // Starts at the real current time (tokens and TLS need a plausible now).
  FakeClock() : now_(absl::Now()) {}

  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Sleep(absl::Duration d) override {
    std::function<void(absl::Duration)> hook;
    {
      absl::MutexLock lock(&mu_);
      now_ += d;
      sleeps_.push_back(d);
      hook = on_sleep_;
    }
    if (hook) hook(d);
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  std::vector<absl::Duration> sleeps() const {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }
  void set_on_sleep(std::function<void(absl::Duration)> hook) {
    absl::MutexLock lock(&mu_);
    on_sleep_ = std::move(hook);
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
  std::function<void(absl::Duration)> on_sleep_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::registry::testing

#endif  // SHAPIN_COMMON_REGISTRY_TESTING_FAKE_CLOCK_H_

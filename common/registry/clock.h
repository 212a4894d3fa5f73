// Clock: where the registry client gets the time and how it waits.
//
// Injected so that retry backoff and token expiry are testable without
// really waiting (Envoy's TimeSource idea):
//
//   class FakeClock : public Clock { ... Sleep() advances now_ ... };
//   options.clock = &fake;
#ifndef SHAPIN_COMMON_REGISTRY_CLOCK_H_
#define SHAPIN_COMMON_REGISTRY_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shapin::registry {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Blocks the calling thread for `d` (a fake may return at once).
  virtual void Sleep(absl::Duration d) = 0;
};

// The wall clock; Sleep really sleeps.
class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void Sleep(absl::Duration d) override { absl::SleepFor(d); }
  // A process-wide instance.
  static RealClock* Get();
};

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_CLOCK_H_

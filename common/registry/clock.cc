#include "common/registry/clock.h"

namespace shapin::registry {

RealClock* RealClock::Get() {
  static RealClock* clock = new RealClock();
  return clock;
}

}  // namespace shapin::registry

#include "common/full_stack_call.h"

#include <exception>
#include <thread>

namespace shapin {

void CallOnFullStack(absl::FunctionRef<void()> fn) {
  std::exception_ptr thrown;
  // A new thread per call: its creation (tens of microseconds) is small
  // next to the registry and database round trips every caller makes.
  std::thread worker([&] {
    try {
      fn();
    } catch (...) {
      thrown = std::current_exception();
    }
  });
  worker.join();
  if (thrown) std::rethrow_exception(thrown);
}

}  // namespace shapin

#include "common/full_stack_call.h"

#include <pthread.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "gtest/gtest.h"

namespace shapin {
namespace {

// Writes `bytes` of stack and returns a value that depends on all of it,
// so the compiler keeps the frame.
int UseStack(size_t bytes) {
  constexpr size_t kFrame = 16 * 1024;
  volatile char frame[kFrame];
  std::memset(const_cast<char*>(frame), 1, kFrame);
  int sum = frame[0] + frame[kFrame - 1];
  if (bytes > kFrame) sum += UseStack(bytes - kFrame);
  // Read after the call, so the frame stays live (no tail-call loop).
  return sum + frame[kFrame / 2] - 1;
}

// Runs `body` on a thread with the stack civetweb gives its workers.
void OnCivetwebSizedStack(void (*body)(void*), void* arg) {
  struct Call {
    void (*body)(void*);
    void* arg;
  } call{body, arg};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 102400);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* p) -> void* {
                  auto* c = static_cast<Call*>(p);
                  c->body(c->arg);
                  return nullptr;
                },
                &call),
            0);
  pthread_attr_destroy(&attr);
  pthread_join(thread, nullptr);
}

TEST(FullStackCallTest, ADeepCallFromASmallStackThreadCompletes) {
  // 2 MiB of frames: twenty times what the calling thread's stack holds.
  int result = 0;
  OnCivetwebSizedStack(
      [](void* out) {
        CallOnFullStack(
            [&] { *static_cast<int*>(out) = UseStack(2 * 1024 * 1024); });
      },
      &result);
  EXPECT_EQ(result, 2 * 128);
}

TEST(FullStackCallTest, RunsToTheEndBeforeReturning) {
  int steps = 0;
  CallOnFullStack([&] { steps = UseStack(64 * 1024) > 0 ? 1 : 2; });
  EXPECT_EQ(steps, 1);
}

TEST(FullStackCallTest, AnExceptionReachesTheCaller) {
  EXPECT_THROW(CallOnFullStack([] { throw std::runtime_error("boom"); }),
               std::runtime_error);
}

}  // namespace
}  // namespace shapin

#include "build-svc/build_waiters.h"

#include <atomic>
#include <functional>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace shapin::build {
namespace {

using Interest = BuildWaiters::Interest;

// Counts wakes; `on_wake` runs inside OnWake.
class CountingWaiter : public BuildWaiters::Waiter {
 public:
  void OnWake() override {
    if (on_wake) on_wake();
    absl::MutexLock lock(&mu);
    ++wakes;
  }
  // Waits (no timeout: a missing wake fails by ctest's timeout) for `n`.
  void AwaitWakes(int n) {
    absl::MutexLock lock(&mu);
    auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return wakes >= n; };
    mu.Await(absl::Condition(&reached));
  }
  int Wakes() {
    absl::MutexLock lock(&mu);
    return wakes;
  }
  std::function<void()> on_wake;
  absl::Mutex mu;
  int wakes ABSL_GUARDED_BY(mu) = 0;
};

// A wake the hub has run after every earlier one (one hub thread: FIFO).
void Drain(BuildWaiters& hub) {
  CountingWaiter marker;
  hub.Add(&marker);
  hub.Wake(&marker);
  marker.AwaitWakes(1);
  hub.Remove(&marker);
}

TEST(BuildWaitersTest, OnlyTheWaitersOfTheChangedBuildWakeAsTheyAsked) {
  BuildWaiters hub(1);
  CountingWaiter submit, watch, other;
  for (CountingWaiter* w : {&submit, &watch, &other}) hub.Add(w);
  hub.Watch(&submit, 1, Interest::kTerminal);
  hub.Watch(&watch, 1, Interest::kAny);
  hub.Watch(&other, 2, Interest::kAny);

  hub.OnBuildChanged({.build_id = 1, .state = BuildState::kRunning});
  hub.OnBuildChanged({.build_id = 1, .state = std::nullopt});  // log lines
  Drain(hub);
  EXPECT_EQ(submit.Wakes(), 0) << "not terminal yet";
  EXPECT_GE(watch.Wakes(), 1);
  EXPECT_EQ(other.Wakes(), 0);

  hub.OnBuildChanged({.build_id = 1, .state = BuildState::kSucceeded});
  submit.AwaitWakes(1);
  Drain(hub);
  EXPECT_EQ(other.Wakes(), 0);

  // Missed changes wake everyone.
  hub.OnChangesMissed();
  other.AwaitWakes(1);
  submit.AwaitWakes(2);
  for (CountingWaiter* w : {&submit, &watch, &other}) hub.Remove(w);
  EXPECT_EQ(hub.size(), 0);
}

TEST(BuildWaitersTest, WakesWhileRunningCoalesceIntoOneMoreRun) {
  BuildWaiters hub(2);
  CountingWaiter w;
  absl::Notification entered, release;
  std::atomic<int> concurrent{0}, most{0};
  w.on_wake = [&] {
    most = std::max(most.load(), ++concurrent);
    if (!entered.HasBeenNotified()) {
      entered.Notify();
      release.WaitForNotification();
    }
    --concurrent;
  };
  hub.Add(&w);
  hub.Watch(&w, 5, Interest::kAny);
  hub.Wake(&w);
  entered.WaitForNotification();
  for (int i = 0; i < 10; ++i) {
    hub.OnBuildChanged({.build_id = 5, .state = BuildState::kRunning});
  }
  release.Notify();
  w.AwaitWakes(2);
  Drain(hub);
  Drain(hub);
  EXPECT_EQ(w.Wakes(), 2) << "ten wakes during a run make one more run";
  EXPECT_EQ(most.load(), 1) << "never two runs of one waiter at once";
  hub.Remove(&w);
}

TEST(BuildWaitersTest, RemoveWaitsForARunningWakeAndStopsLaterOnes) {
  BuildWaiters hub(1);
  CountingWaiter w;
  absl::Notification entered, release;
  std::atomic<bool> returned_early{false};
  std::atomic<bool>* removed_flag = nullptr;
  w.on_wake = [&] {
    entered.Notify();
    release.WaitForNotification();
    if (removed_flag != nullptr && removed_flag->load()) returned_early = true;
  };
  hub.Add(&w);
  hub.Watch(&w, 3, Interest::kAny);
  hub.Wake(&w);
  entered.WaitForNotification();
  std::atomic<bool> removed{false};
  removed_flag = &removed;
  std::thread remover([&] {
    hub.Remove(&w);
    removed = true;
  });
  // Remove() must not return while OnWake runs (`w` would be destroyed
  // under it); OnWake checks as it ends.
  release.Notify();
  remover.join();
  EXPECT_FALSE(returned_early.load());
  EXPECT_EQ(w.Wakes(), 1);
  hub.OnBuildChanged({.build_id = 3, .state = BuildState::kSucceeded});
  Drain(hub);
  EXPECT_EQ(w.Wakes(), 1) << "no wake after Remove()";
  EXPECT_EQ(hub.size(), 0);
}

TEST(BuildWaitersTest, AWaiterMayRemoveItselfFromItsOwnWake) {
  BuildWaiters hub(1);
  CountingWaiter w;
  w.on_wake = [&] { hub.Remove(&w); };
  hub.Add(&w);
  hub.Wake(&w);
  w.AwaitWakes(1);
  Drain(hub);
  EXPECT_EQ(hub.size(), 0);
}

}  // namespace
}  // namespace shapin::build

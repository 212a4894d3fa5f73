// BuildWaiters: wakes the calls that wait on a build — SubmitBuild(wait),
// WatchBuild — when the build changes, instead of each call holding a gRPC
// thread and polling the database.
//
// A waiter (a gRPC callback reactor) registers for one build; the change
// feed (PostgreSQL LISTEN/NOTIFY, build_change.h) reports each change once
// per process, and only the waiters of that build wake: each reads the
// build again on one of a few shared threads, so a waiting caller costs no
// thread and no query until its build changes. When the feed may have missed
// changes (its connection dropped and came back), every waiter wakes.
//
//   class Reactor : public grpc::ServerUnaryReactor, BuildWaiters::Waiter {
//     Reactor(BuildWaiters& w) : w_(w) { w_.Add(this); w_.Wake(this); }
//     void OnWake() override { … w_.Watch(this, id, Interest::kTerminal); }
//     void OnDone() override { w_.Remove(this); delete this; }
//   };
//   feed handlers: waiters.OnBuildChanged(change); waiters.OnChangesMissed();
#ifndef SHAPIN_BUILD_SVC_BUILD_WAITERS_H_
#define SHAPIN_BUILD_SVC_BUILD_WAITERS_H_

#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "build-svc/build_change.h"

namespace shapin::build {

class BuildWaiters {
 public:
  class Waiter {
   public:
    virtual ~Waiter() = default;
    // Runs on one of the hub's threads, never twice at once for one waiter.
    // A wake asked for while it runs makes it run once more afterwards.
    virtual void OnWake() = 0;
  };

  enum class Interest {
    kTerminal,  // only when the build ends (SubmitBuild wait)
    kAny,       // every state, phase or log change (WatchBuild)
  };

  // `threads` run OnWake (they do the waiters' database reads).
  explicit BuildWaiters(int threads);
  // Joins the threads; every waiter must be removed by then.
  ~BuildWaiters();

  BuildWaiters(const BuildWaiters&) = delete;
  BuildWaiters& operator=(const BuildWaiters&) = delete;

  void Add(Waiter* waiter);
  // From now on `waiter` wakes on changes of `build_id` it is interested in.
  void Watch(Waiter* waiter, int64_t build_id, Interest interest);
  // Runs waiter->OnWake() soon (a first read, or the next after a write).
  void Wake(Waiter* waiter);
  // After it returns, OnWake of `waiter` neither runs nor will run (called
  // from within its own OnWake, the running call is the last).
  void Remove(Waiter* waiter);

  // The change feed's side.
  void OnBuildChanged(const BuildChange& change);
  void OnChangesMissed();

  // Registered waiters (for the gauge and tests).
  int size();

 private:
  struct Entry {
    int64_t build_id = 0;  // 0: not watching a build yet
    Interest interest = Interest::kTerminal;
    bool queued = false;
    bool running = false;
    bool again = false;  // woken while running
    bool removed = false;
    std::thread::id runner;
  };
  void WakeLocked(Waiter* waiter, Entry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  absl::Mutex mu_;
  absl::flat_hash_map<Waiter*, Entry> entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, std::vector<Waiter*>> by_build_
      ABSL_GUARDED_BY(mu_);
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_WAITERS_H_

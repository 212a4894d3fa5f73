// PostgresBuildChangeFeed: the build changes every build-svc process commits,
// as they happen, over PostgreSQL LISTEN/NOTIFY (channel shapin_builds, sent
// by the triggers of migration 4; build_change.h has the payloads).
//
// One dedicated connection per process (outside the pool: a LISTEN must
// stay on its session) and one thread, which mostly sleeps in
// await_notification. When the connection drops (a database restart), the
// feed says changes may have been missed — at once, so waiting calls re-read
// and report the outage, and again on every reconnection — and reconnects
// with backoff (0.2 s doubling to 5 s).
//
//   auto feed = PostgresBuildChangeFeed::Start(
//       url, {.on_change = [&](const BuildChange& c) { … },
//             .on_missed = [&] { … }});
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_CHANGE_FEED_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_CHANGE_FEED_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "build-svc/build_change.h"

namespace shapin::build {

class PostgresBuildChangeFeed {
 public:
  struct Handlers {
    // Each change, on the feed's thread; keep it short.
    std::function<void(const BuildChange&)> on_change;
    // The feed (re)connected or lost its connection: anything may have
    // changed meanwhile.
    std::function<void()> on_missed;
  };

  // Connects in the background (the first connection counts as a
  // reconnection). `url` is never logged.
  static std::unique_ptr<PostgresBuildChangeFeed> Start(std::string url,
                                                        Handlers handlers);
  // Stops listening and joins.
  ~PostgresBuildChangeFeed();

  bool connected() const { return connected_.load(); }
  // Notifications received and reconnections made, for the metrics.
  int64_t notifications() const { return notifications_.load(); }
  int64_t reconnects() const { return reconnects_.load(); }

 private:
  PostgresBuildChangeFeed(std::string url, Handlers handlers)
      : url_(std::move(url)), handlers_(std::move(handlers)) {}
  void Run();
  // Sleeps up to `d`; false when stopping.
  bool Pause(absl::Duration d);
  bool stopping();

  const std::string url_;
  const Handlers handlers_;
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> notifications_{0};
  std::atomic<int64_t> reconnects_{0};
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_CHANGE_FEED_H_

#include "build-svc/adapters/postgres_build_change_feed.h"

#include "common/log.h"
#include "pqxx/pqxx"

namespace shapin::build {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(200);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// How long one wait for a notification lasts: the thread checks for
// shutdown in between (no query is sent).
constexpr long kAwaitMicros = 200'000;

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection& c,
           const std::function<void(absl::string_view)>& on_payload)
      : pqxx::notification_receiver(c, std::string(kBuildChangeChannel)),
        on_payload_(on_payload) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    on_payload_(payload);
  }

 private:
  const std::function<void(absl::string_view)>& on_payload_;
};

}  // namespace

std::unique_ptr<PostgresBuildChangeFeed> PostgresBuildChangeFeed::Start(
    std::string url, Handlers handlers) {
  std::unique_ptr<PostgresBuildChangeFeed> feed(
      new PostgresBuildChangeFeed(std::move(url), std::move(handlers)));
  feed->thread_ = std::thread([f = feed.get()] { f->Run(); });
  return feed;
}

PostgresBuildChangeFeed::~PostgresBuildChangeFeed() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool PostgresBuildChangeFeed::stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

bool PostgresBuildChangeFeed::Pause(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stop = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&stop), d);
  return !stopping_;
}

void PostgresBuildChangeFeed::Run() {
  const std::function<void(absl::string_view)> on_payload =
      [this](absl::string_view payload) {
        ++notifications_;
        std::optional<BuildChange> change = ParseBuildChange(payload);
        if (change) {
          handlers_.on_change(*change);
        } else {
          LogWarning("build_change_unreadable", {{"payload", payload}});
        }
      };
  absl::Duration backoff = kFirstBackoff;
  bool lost_logged = false;
  while (!stopping()) {
    try {
      pqxx::connection c(url_);
      Receiver receiver(c, on_payload);
      c.get_notifs();  // the LISTEN is in place from here on
      connected_ = true;
      ++reconnects_;
      if (lost_logged) LogInfo("build_change_feed_restored", {});
      lost_logged = false;
      backoff = kFirstBackoff;
      handlers_.on_missed();
      while (!stopping()) c.await_notification(0, kAwaitMicros);
    } catch (const std::exception& e) {
      const bool was_connected = connected_.exchange(false);
      if (!lost_logged) {
        // The message may name host and database, never the password: the
        // URL is not part of libpq's errors.
        LogWarning("build_change_feed_lost",
                   {{"error", e.what()},
                    {"effect",
                     "waiting calls re-read their builds; idle workers poll "
                     "until it is back"}});
        lost_logged = true;
      }
      if (was_connected) handlers_.on_missed();
      if (!Pause(backoff)) break;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
  connected_ = false;
}

}  // namespace shapin::build

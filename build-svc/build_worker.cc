#include "build-svc/build_worker.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace shapin::build {
namespace {

// How often a running build's lease is renewed and its log stored.
constexpr absl::Duration kHeartbeat = absl::Seconds(1);

// Stores the log lines gathered since the last call.
void FlushLog(BuildStore& store, int64_t build_id, BuildLog& log) {
  std::vector<std::string> lines = log.TakePending();
  if (lines.empty()) return;
  absl::Status s = store.AppendLog(build_id, lines, log.Tail());
  if (!s.ok()) {
    LogWarning("build_log_not_stored",
               {{"build_id", build_id}, {"error", s.message()}});
  }
}

}  // namespace

std::string DefaultWorkerId() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid(), "-",
                      absl::ToUnixMillis(absl::Now()));
}

BuildWorker::BuildWorker(BuildStore& store, BuildPipeline& pipeline,
                         BuildMetrics& metrics, WorkerOptions options)
    : store_(store),
      pipeline_(pipeline),
      metrics_(metrics),
      options_(std::move(options)) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
}

BuildWorker::~BuildWorker() { Stop(); }

void BuildWorker::Start() {
  for (int i = 0; i < options_.concurrency; ++i) {
    runners_.emplace_back([this, i] { RunnerLoop(i); });
  }
  LogInfo("build_worker_started", {{"worker", options_.worker_id},
                                   {"concurrency", options_.concurrency}});
}

void BuildWorker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (std::thread& t : runners_) t.join();
  runners_.clear();
}

void BuildWorker::Nudge() {
  absl::MutexLock lock(&mu_);
  ++nudges_;
}

void BuildWorker::RunnerLoop(int index) {
  absl::Time next_reap = absl::InfinitePast();
  while (true) {
    int64_t seen_nudges;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      seen_nudges = nudges_;
    }
    if (index == 0 && absl::Now() >= next_reap) {
      next_reap = absl::Now() + options_.reap_interval;
      absl::StatusOr<int> reaped = store_.ReapExpired(options_.max_attempts);
      if (reaped.ok() && *reaped > 0) {
        LogWarning("builds_reaped", {{"count", *reaped}});
      }
      absl::StatusOr<int64_t> depth = store_.QueueDepth();
      if (depth.ok()) metrics_.SetQueueDepth(static_cast<double>(*depth));
    }
    absl::StatusOr<std::optional<BuildRecord>> claimed =
        store_.Claim(options_.worker_id, options_.lease);
    if (!claimed.ok()) {
      LogWarning("build_claim_failed", {{"error", claimed.status().message()}});
    } else if (claimed->has_value()) {
      RunClaimed(**claimed);
      continue;  // look for more work at once
    }
    absl::Duration wait = options_.poll_interval;
    if (index == 0) wait = std::min(wait, next_reap - absl::Now());
    absl::MutexLock lock(&mu_);
    auto woken = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return stopping_ || nudges_ != seen_nudges;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  }
}

void BuildWorker::RunClaimed(const BuildRecord& build) {
  LogInfo("build_claimed", {{"build_id", build.build_id},
                            {"git_sha", build.git_sha.str()},
                            {"worker", options_.worker_id}});
  std::atomic<bool> stop{false};
  std::atomic<StopReason> reason{StopReason::kNone};
  std::atomic<bool> done{false};
  BuildLog log;
  auto request_stop = [&](StopReason why) {
    StopReason none = StopReason::kNone;
    reason.compare_exchange_strong(none, why);
    stop = true;
  };

  std::thread heartbeat([&] {
    absl::Time next = absl::Now() + kHeartbeat;
    while (!done.load()) {
      absl::SleepFor(absl::Milliseconds(100));
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) request_stop(StopReason::kShutdown);
      }
      if (absl::Now() < next) continue;
      next = absl::Now() + kHeartbeat;
      FlushLog(store_, build.build_id, log);
      absl::StatusOr<bool> cancel =
          store_.Heartbeat(build.build_id, options_.worker_id, options_.lease);
      if (absl::IsFailedPrecondition(cancel.status())) {
        request_stop(StopReason::kLeaseLost);
      } else if (cancel.ok() && *cancel) {
        request_stop(StopReason::kCanceled);
      }
    }
  });

  std::optional<BuildResult> result =
      pipeline_.Run(build, options_.worker_id, stop, reason, log);
  done = true;
  heartbeat.join();
  FlushLog(store_, build.build_id, log);
  if (!result) return;
  absl::Status finished = store_.Finish(options_.worker_id, *result);
  if (!finished.ok()) {
    LogError("build_result_not_recorded",
             {{"build_id", build.build_id}, {"error", finished.message()}});
  }
}

}  // namespace shapin::build

#include "deploy-svc/environment_lock_queue.h"

#include <algorithm>
#include <random>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace shapin::deploy {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Milliseconds(500);
// How often a queued caller re-checks its deadline and cancellation.
constexpr absl::Duration kRecheck = absl::Milliseconds(200);
// Waiting ends this long before the caller's deadline, so the ABORTED
// answer still reaches it.
constexpr absl::Duration kDeadlineMargin = absl::Milliseconds(250);

// ±25 %, so processes polling one lock drift apart.
absl::Duration Jittered(absl::Duration d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.75, 1.25);
  return d * factor(rng);
}

// "0s", "12ms", "1.4s", "10m".
std::string Rounded(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return "0s";
  return absl::FormatDuration(absl::Trunc(d, d < absl::Seconds(1)
                                                 ? absl::Milliseconds(1)
                                                 : absl::Milliseconds(100)));
}

}  // namespace

std::string DescribeLockHolder(const LockHolder& holder) {
  if (holder.deployment_id == 0) return "another deployment is in progress";
  return absl::StrCat("deployment ", holder.deployment_id, " (",
                      holder.image_sha, ") has been in progress for ",
                      Rounded(holder.running_for));
}

bool EnvironmentLockQueue::IsHead(const std::string& environment,
                                  uint64_t ticket) {
  auto it = queues_.find(environment);
  return it != queues_.end() && it->second.front() == ticket;
}

absl::Status EnvironmentLockQueue::Run(const std::string& environment,
                                       const LockWait& wait,
                                       absl::FunctionRef<LockTry()> try_lock,
                                       absl::FunctionRef<LockHolder()> holder) {
  const absl::Time start = absl::Now();
  const absl::Time until_deadline = wait.deadline - kDeadlineMargin;
  const absl::Time give_up_at = std::min(start + wait.max_wait, until_deadline);
  uint64_t ticket = 0;
  {
    absl::MutexLock l(&mu_);
    ticket = next_ticket_++;
    queues_[environment].push_back(ticket);
  }
  // Leaving (done, gave up or failed) lets the next caller become head;
  // Await conditions are re-evaluated when mu_ is released.
  absl::Cleanup leave = [&] {
    absl::MutexLock l(&mu_);
    std::deque<uint64_t>& queue = queues_[environment];
    queue.erase(std::find(queue.begin(), queue.end(), ticket));
    if (queue.empty()) queues_.erase(environment);
  };

  absl::Duration backoff = kFirstBackoff;
  bool announced = false;
  while (true) {
    bool head = false;
    {
      absl::MutexLock l(&mu_);
      head = IsHead(environment, ticket);
    }
    if (head) {
      LockTry attempt = try_lock();
      if (attempt.acquired || !attempt.status.ok()) return attempt.status;
    }
    const absl::Time now = absl::Now();
    if (wait.cancelled && wait.cancelled()) {
      return absl::CancelledError(
          absl::StrCat("environment ", environment,
                       ": the caller went away "
                       "while waiting for the environment (waited ",
                       Rounded(now - start), ")"));
    }
    if (now >= give_up_at) {
      const std::string why =
          give_up_at == until_deadline && until_deadline < start + wait.max_wait
              ? absl::StrCat(
                    "until shortly before the call's deadline; "
                    "deploy.lock_wait is ",
                    Rounded(wait.max_wait))
              : "deploy.lock_wait";
      return absl::AbortedError(
          absl::StrCat("environment ", environment,
                       " is busy: ", DescribeLockHolder(holder()), "; waited ",
                       Rounded(now - start), " (", why, ")"));
    }
    if (!announced) {
      announced = true;
      if (wait.on_wait) wait.on_wait(holder());
    }
    const absl::Duration left = give_up_at - absl::Now();
    if (head) {
      absl::SleepFor(std::min(Jittered(backoff), left));
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    auto my_turn = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return IsHead(environment, ticket);
    };
    absl::MutexLock l(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&my_turn), std::min(kRecheck, left));
  }
}

}  // namespace shapin::deploy

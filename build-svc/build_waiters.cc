#include "build-svc/build_waiters.h"

#include <algorithm>

namespace shapin::build {

BuildWaiters::BuildWaiters(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

BuildWaiters::~BuildWaiters() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void BuildWaiters::Add(Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  entries_[waiter] = Entry{};
}

void BuildWaiters::Watch(Waiter* waiter, int64_t build_id, Interest interest) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(waiter);
  if (it == entries_.end() || it->second.removed) return;
  Entry& e = it->second;
  if (e.build_id == build_id) {
    e.interest = interest;
    return;
  }
  if (e.build_id != 0) {
    std::vector<Waiter*>& old = by_build_[e.build_id];
    old.erase(std::remove(old.begin(), old.end(), waiter), old.end());
    if (old.empty()) by_build_.erase(e.build_id);
  }
  e.build_id = build_id;
  e.interest = interest;
  by_build_[build_id].push_back(waiter);
}

void BuildWaiters::WakeLocked(Waiter* waiter, Entry& e) {
  if (e.removed) return;
  if (e.running) {
    e.again = true;
  } else if (!e.queued) {
    e.queued = true;
    queue_.push_back(waiter);
  }
}

void BuildWaiters::Wake(Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(waiter);
  if (it != entries_.end()) WakeLocked(waiter, it->second);
}

void BuildWaiters::Remove(Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(waiter);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.removed = true;
  if (e.build_id != 0) {
    std::vector<Waiter*>& watching = by_build_[e.build_id];
    watching.erase(std::remove(watching.begin(), watching.end(), waiter),
                   watching.end());
    if (watching.empty()) by_build_.erase(e.build_id);
  }
  if (e.running && e.runner == std::this_thread::get_id()) {
    return;  // Loop() erases it once this OnWake returns
  }
  auto idle = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto found = entries_.find(waiter);
    return found == entries_.end() || !found->second.running;
  };
  mu_.Await(absl::Condition(&idle));
  entries_.erase(waiter);
  // A stale queue_ entry is skipped: Loop() finds no entry for it.
}

void BuildWaiters::OnBuildChanged(const BuildChange& change) {
  absl::MutexLock lock(&mu_);
  auto it = by_build_.find(change.build_id);
  if (it == by_build_.end()) return;
  for (Waiter* w : it->second) {
    auto found = entries_.find(w);
    if (found == entries_.end()) continue;
    Entry& e = found->second;
    if (e.interest == Interest::kAny || change.terminal()) WakeLocked(w, e);
  }
}

void BuildWaiters::OnChangesMissed() {
  absl::MutexLock lock(&mu_);
  for (auto& [w, e] : entries_) WakeLocked(w, e);
}

int BuildWaiters::size() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(entries_.size());
}

void BuildWaiters::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return stopping_ || !queue_.empty();
    };
    mu_.Await(absl::Condition(&ready));
    if (queue_.empty()) return;  // stopping
    Waiter* w = queue_.front();
    queue_.pop_front();
    auto it = entries_.find(w);
    if (it == entries_.end() || it->second.removed || !it->second.queued) {
      continue;
    }
    Entry& e = it->second;
    e.queued = false;
    e.running = true;
    e.again = false;
    e.runner = std::this_thread::get_id();
    mu_.Unlock();
    w->OnWake();
    mu_.Lock();
    // `w` may be gone (removed from its own OnWake): only the entry is used.
    it = entries_.find(w);
    if (it == entries_.end()) continue;
    Entry& after = it->second;
    after.running = false;
    if (after.removed) {
      entries_.erase(it);  // Remove() waits for this, or returned already
      continue;
    }
    if (after.again) {
      after.again = false;
      after.queued = true;
      queue_.push_back(w);
    }
  }
}

}  // namespace shapin::build

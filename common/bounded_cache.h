// BoundedCache: a thread-safe string-keyed cache that holds at most
// `max_entries` values, each for at most `ttl`, for work whose result
// depends only on immutable inputs (a digest, a pinned image reference).
//
// When full, adding a new key evicts the entry added (or refreshed) longest
// ago — with one TTL for all entries that is also the one expiring first —
// so a burst of new keys never empties the cache at once. Expired entries
// are never returned; they are dropped when looked up or evicted.
//
//   BoundedCache<SignatureVerdict> verdicts(1024, absl::Seconds(60), clock);
//   if (std::optional<SignatureVerdict> v = verdicts.Get(key)) return *v;
//   verdicts.Put(key, Verify(...));
//
// Without a clock (nullptr) entries never expire and only the size bounds
// the cache.
#ifndef SHAPIN_COMMON_BOUNDED_CACHE_H_
#define SHAPIN_COMMON_BOUNDED_CACHE_H_

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"

namespace shapin {

template <typename V>
class BoundedCache {
 public:
  // `max_entries` >= 1. `clock` (not owned) may be null: no expiry.
  explicit BoundedCache(size_t max_entries,
                        absl::Duration ttl = absl::InfiniteDuration(),
                        registry::Clock* clock = nullptr)
      : max_entries_(max_entries < 1 ? 1 : max_entries),
        ttl_(ttl),
        clock_(clock) {}

  BoundedCache(const BoundedCache&) = delete;
  BoundedCache& operator=(const BoundedCache&) = delete;

  // The value stored under `key`, unless absent or expired.
  std::optional<V> Get(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (Now() >= it->second.expires) {
      order_.erase(it->second.order);
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  // Stores (or replaces) `key`'s value, valid for the TTL from now.
  void Put(const std::string& key, V value) {
    absl::MutexLock lock(&mu_);
    const absl::Time expires =
        clock_ == nullptr ? absl::InfiniteFuture() : clock_->Now() + ttl_;
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      order_.erase(it->second.order);
      entries_.erase(it);
    }
    while (entries_.size() >= max_entries_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    entries_.emplace(key,
                     Entry{std::move(value), expires, std::prev(order_.end())});
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }
  size_t max_entries() const { return max_entries_; }

 private:
  struct Entry {
    V value;
    absl::Time expires;
    std::list<std::string>::iterator order;  // its place in order_
  };

  absl::Time Now() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return clock_ == nullptr ? absl::InfinitePast() : clock_->Now();
  }

  const size_t max_entries_;
  const absl::Duration ttl_;
  registry::Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Keys, least recently stored first.
  std::list<std::string> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin

#endif  // SHAPIN_COMMON_BOUNDED_CACHE_H_

#include "deploy-svc/coalescing_image_resolver.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace shapin::deploy {

absl::StatusOr<std::optional<Digest>> CoalescingImageResolver::ResolveTag(
    const std::string& repository, absl::string_view tag) {
  // Neither a repository nor a tag can hold a newline.
  const std::string key = absl::StrCat(repository, "\n", tag);
  absl::MutexLock lock(&mu_);
  ++lookups_;
  std::shared_ptr<Round> round;
  {
    Tag& t = tags_[key];  // may move while we wait: not kept
    if (t.in_flight == nullptr) {
      t.in_flight = std::make_shared<Round>();
    }
    if (!t.in_flight->sent) {
      // Not sent yet, so its request starts after we arrived.
      round = t.in_flight;
    } else {
      // Sent before we arrived: its answer may predate us. Share the next.
      if (t.next == nullptr) t.next = std::make_shared<Round>();
      round = t.next;
    }
  }
  // Ours to send once it is the tag's current round and nobody sent it yet;
  // finished once a member's request answered.
  const Round* r = round.get();
  auto ready = [this, &key, r]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (r->done) return true;
    auto it = tags_.find(key);
    return !r->sent && it != tags_.end() && it->second.in_flight.get() == r;
  };
  if (!ready()) {
    ++waiting_;
    mu_.Await(absl::Condition(&ready));
    --waiting_;
  }
  if (!round->done) {
    round->sent = true;
    Send(key, repository, tag, *round);
  }
  return round->result;
}

void CoalescingImageResolver::Send(const std::string& key,
                                   const std::string& repository,
                                   absl::string_view tag, Round& round) {
  ++requests_;
  mu_.Unlock();
  absl::StatusOr<std::optional<Digest>> result =
      inner_.ResolveTag(repository, tag);
  mu_.Lock();
  round.result = std::move(result);
  round.done = true;
  auto it = tags_.find(key);
  if (it == tags_.end()) return;  // not reached: the entry lives while out
  if (it->second.next != nullptr) {
    // The lookups that arrived meanwhile: their request may go out now.
    it->second.in_flight = std::move(it->second.next);
    it->second.next = nullptr;
  } else {
    tags_.erase(it);
  }
}

int64_t CoalescingImageResolver::lookups() const {
  absl::MutexLock lock(&mu_);
  return lookups_;
}

int64_t CoalescingImageResolver::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int CoalescingImageResolver::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

}  // namespace shapin::deploy

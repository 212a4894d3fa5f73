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
  // Join the tag's round that has not been sent (its request goes out after
  // we arrived), or open it.
  std::shared_ptr<Round>& next = tags_[key].next;
  if (next == nullptr) next = std::make_shared<Round>();
  const std::shared_ptr<Round> round = next;
  // Ours to send once no request of the tag is out and no member has sent
  // it; finished once a member's request answered. (tags_ may rehash while
  // we wait: look the tag up each time.)
  const Round* r = round.get();
  auto ready = [this, &key, r]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (r->done) return true;
    auto it = tags_.find(key);
    return !r->sent && it != tags_.end() && !it->second.out;
  };
  if (!ready()) {
    ++waiting_;
    mu_.Await(absl::Condition(&ready));
    --waiting_;
  }
  if (!round->done) Send(key, repository, tag, *round);
  return round->result;
}

void CoalescingImageResolver::Send(const std::string& key,
                                   const std::string& repository,
                                   absl::string_view tag, Round& round) {
  round.sent = true;
  {
    Tag& t = tags_[key];
    if (t.next.get() == &round) t.next = nullptr;  // later arrivals: a new one
    t.out = true;
  }
  ++requests_;
  mu_.Unlock();
  absl::StatusOr<std::optional<Digest>> result =
      inner_.ResolveTag(repository, tag);
  mu_.Lock();
  round.result = std::move(result);
  round.done = true;
  Tag& t = tags_[key];
  t.out = false;
  // The round that collected meanwhile (if any) may go out now: its
  // waiters see that nothing is out.
  if (t.next == nullptr) tags_.erase(key);
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

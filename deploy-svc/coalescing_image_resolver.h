// CoalescingImageResolver: concurrent lookups of one repository:tag share a
// registry HEAD, group-commit style, without ever answering from the past.
//
// A lookup only gets the answer of a HEAD that was sent after it arrived.
// While a HEAD for a tag is in flight, lookups of that tag that arrive wait
// for it to end and then share the next one, which one of them sends; the
// in-flight one's answer may predate them (the tag could have been repointed
// in between), so they never take it. Hence a tag repointed out of band is
// seen by every lookup that starts after the registry serves the new digest
// — the tamper check (DIGEST_MISMATCH) is never served from a cache — while
// under N concurrent callers of one tag the registry sees at most one HEAD
// in flight per tag instead of N (docs/performance.md, preflight).
//
// The price is latency: a lookup waits for at most the HEAD in flight when
// it arrived plus its own. An error is shared by everyone in its round, who
// would have sent the same request. Different tags never wait for each
// other.
//
//   RegistryImageResolver registry(*client);
//   CoalescingImageResolver resolver(registry);
//   absl::StatusOr<std::optional<Digest>> d = resolver.ResolveTag(repo, sha);
#ifndef SHAPIN_DEPLOY_SVC_COALESCING_IMAGE_RESOLVER_H_
#define SHAPIN_DEPLOY_SVC_COALESCING_IMAGE_RESOLVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "deploy-svc/image_resolver.h"

namespace shapin::deploy {

class CoalescingImageResolver : public ImageResolver {
 public:
  // `inner` (the one that asks the registry) must outlive this.
  explicit CoalescingImageResolver(ImageResolver& inner) : inner_(inner) {}

  absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) override;

  // Lookups answered and requests sent to `inner` so far.
  int64_t lookups() const;
  int64_t requests() const;
  // Lookups waiting right now for a request another lookup sends.
  int waiting() const;

 private:
  // One request to `inner` and the lookups sharing its answer.
  struct Round {
    bool sent = false;  // a member has started the request
    bool done = false;
    absl::StatusOr<std::optional<Digest>> result = std::nullopt;
  };
  // Per tag: whether a request is out, and the round collecting the
  // lookups that arrived since it went out (sent once it is back).
  struct Tag {
    bool out = false;
    std::shared_ptr<Round> next;
  };

  // Sends `round`'s request and records its answer (mu_ held on entry and
  // exit, not while the request is out).
  void Send(const std::string& key, const std::string& repository,
            absl::string_view tag, Round& round)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ImageResolver& inner_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Tag> tags_ ABSL_GUARDED_BY(mu_);
  int64_t lookups_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_COALESCING_IMAGE_RESOLVER_H_

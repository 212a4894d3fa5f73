// Bearer tokens kept outside the tokens file (the PostgreSQL api_tokens
// table), held in memory and reloaded in the background, so a call never
// waits for the database and a token created or revoked with shapin-tokens
// takes effect within one refresh interval, without a restart.
//
//   SHAPIN_ASSIGN_OR_RETURN(
//       std::unique_ptr<RefreshingTokenIdentities> tokens,
//       RefreshingTokenIdentities::Start(
//           [store] { return LoadActiveTokens(*store); }, absl::Seconds(30),
//           "database api_tokens"));
//   std::optional<Identity> who = tokens->FindByToken(presented);
#ifndef SHAPIN_COMMON_AUTH_REFRESHING_TOKEN_IDENTITIES_H_
#define SHAPIN_COMMON_AUTH_REFRESHING_TOKEN_IDENTITIES_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/auth/identity_registry.h"

namespace shapin::auth {

// Holds the last good set of tokens a loader returned and reloads it every
// `interval` on its own thread. A failed reload keeps the last good set and
// logs `auth_tokens_refresh_failed` (the loader's message, never a token).
class RefreshingTokenIdentities {
 public:
  // Returns the current token set (typically the database's active tokens).
  using Loader = std::function<absl::StatusOr<IdentityRegistry>()>;

  // Loads once before returning (that error is returned as is, so a service
  // does not start with an unknown token set), then refreshes every
  // `interval` (> 0) until destroyed. `source` names the set in logs.
  static absl::StatusOr<std::unique_ptr<RefreshingTokenIdentities>> Start(
      Loader load, absl::Duration interval, std::string source);
  // Stops the refresh thread (waits for a reload in progress).
  ~RefreshingTokenIdentities();

  // Same contract as IdentityRegistry::FindByToken (constant-time compares),
  // against the last good set; never touches the database.
  std::optional<Identity> FindByToken(absl::string_view token) const;
  std::optional<Identity> FindByTokenSha256(absl::string_view sha256_hex) const;
  size_t token_count() const;

 private:
  RefreshingTokenIdentities(Loader load, absl::Duration interval,
                            std::string source)
      : load_(std::move(load)),
        interval_(interval),
        source_(std::move(source)) {}
  void RefreshLoop();

  const Loader load_;
  const absl::Duration interval_;
  const std::string source_;
  mutable absl::Mutex mu_;
  // Swapped whole on each refresh; readers copy the pointer under the lock
  // and compare outside it.
  std::shared_ptr<const IdentityRegistry> current_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_REFRESHING_TOKEN_IDENTITIES_H_

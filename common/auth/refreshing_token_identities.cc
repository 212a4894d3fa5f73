#include "common/auth/refreshing_token_identities.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/token_hash.h"
#include "common/log.h"

namespace shapin::auth {

absl::StatusOr<std::unique_ptr<RefreshingTokenIdentities>>
RefreshingTokenIdentities::Start(Loader load, absl::Duration interval,
                                 std::string source) {
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "auth.refresh_interval: must be greater than zero");
  }
  absl::StatusOr<IdentityRegistry> first = load();
  if (!first.ok()) {
    return absl::Status(first.status().code(),
                        absl::StrCat("loading tokens from ", source, ": ",
                                     first.status().message()));
  }
  std::unique_ptr<RefreshingTokenIdentities> tokens(
      new RefreshingTokenIdentities(std::move(load), interval,
                                    std::move(source)));
  tokens->current_ =
      std::make_shared<const IdentityRegistry>(*std::move(first));
  tokens->thread_ = std::thread([t = tokens.get()] { t->RefreshLoop(); });
  return tokens;
}

RefreshingTokenIdentities::~RefreshingTokenIdentities() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void RefreshingTokenIdentities::RefreshLoop() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) {
    absl::StatusOr<IdentityRegistry> loaded = load_();
    if (!loaded.ok()) {
      LogWarning("auth_tokens_refresh_failed",
                 {{"source", source_},
                  {"error", loaded.status().message()},
                  {"effect", "the last loaded tokens stay in use"}});
      continue;
    }
    auto next = std::make_shared<const IdentityRegistry>(*std::move(loaded));
    size_t before = 0;
    {
      absl::MutexLock lock(&mu_);
      before = current_->token_count();
      current_.swap(next);
    }
    // `next` now holds the previous set; it is freed outside the lock.
    if (before != token_count()) {
      LogInfo("auth_tokens_refreshed",
              {{"source", source_}, {"tokens", token_count()}});
    }
  }
}

std::optional<Identity> RefreshingTokenIdentities::FindByToken(
    absl::string_view token) const {
  return FindByTokenSha256(TokenSha256Hex(token));
}

std::optional<Identity> RefreshingTokenIdentities::FindByTokenSha256(
    absl::string_view sha256_hex) const {
  std::shared_ptr<const IdentityRegistry> current;
  {
    absl::MutexLock lock(&mu_);
    current = current_;
  }
  return current->FindByTokenSha256(sha256_hex);
}

size_t RefreshingTokenIdentities::token_count() const {
  absl::MutexLock lock(&mu_);
  return current_->token_count();
}

}  // namespace shapin::auth

#include "deploy-svc/console/session_store.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "common/auth/token_hash.h"
#include "common/log.h"
#include "openssl/rand.h"

namespace shapin::console {

std::string RandomHexToken() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // Without randomness no session can be safe: refuse to go on.
    LogError("console_random_failed", {{"effect", "aborting"}});
    std::abort();
  }
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

SessionStore::SessionStore(SessionOptions options)
    : options_(std::move(options)) {}

absl::Time SessionStore::Now() const {
  return options_.now ? options_.now() : absl::Now();
}

bool SessionStore::Expired(const Session& s, absl::Time now) const {
  return now - s.last_seen >= options_.idle_timeout ||
         now - s.created >= options_.max_age;
}

void SessionStore::DropExpiredLocked(absl::Time now) {
  absl::erase_if(sessions_,
                 [&](const auto& entry) { return Expired(entry.second, now); });
}

Session SessionStore::Create(std::string token_sha256, std::string identity) {
  const absl::Time now = Now();
  Session s{.id = RandomHexToken(),
            .csrf_token = RandomHexToken(),
            .token_sha256 = std::move(token_sha256),
            .identity = std::move(identity),
            .created = now,
            .last_seen = now};
  absl::MutexLock lock(&mu_);
  DropExpiredLocked(now);
  if (sessions_.size() >= std::max<size_t>(options_.max_sessions, 1)) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
          return a.second.last_seen < b.second.last_seen;
        });
    sessions_.erase(oldest);
  }
  sessions_.emplace(auth::TokenSha256Hex(s.id), s);
  return s;
}

std::optional<Session> SessionStore::Find(absl::string_view id) {
  if (id.empty()) return std::nullopt;
  const std::string key = auth::TokenSha256Hex(id);
  const absl::Time now = Now();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second;
}

void SessionStore::Erase(absl::string_view id) {
  const std::string key = auth::TokenSha256Hex(id);
  absl::MutexLock lock(&mu_);
  sessions_.erase(key);
}

void SessionStore::SetNotice(absl::string_view id, std::string notice) {
  const std::string key = auth::TokenSha256Hex(id);
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(key);
  if (it != sessions_.end()) it->second.notice = std::move(notice);
}

std::string SessionStore::TakeNotice(absl::string_view id) {
  const std::string key = auth::TokenSha256Hex(id);
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return "";
  return std::exchange(it->second.notice, "");
}

bool SessionStore::CsrfMatches(const Session& session,
                               absl::string_view csrf_token) {
  return !csrf_token.empty() &&
         auth::ConstantTimeEquals(session.csrf_token, csrf_token);
}

size_t SessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace shapin::console

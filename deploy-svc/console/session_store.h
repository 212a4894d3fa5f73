// Console sessions, kept server-side: the browser holds only a random id
// (an HttpOnly, SameSite=Strict cookie); the store keeps, per session, the
// SHA-256 of the bearer token it was opened with (re-checked on every
// request, so a revoked token ends its sessions), the identity name, a
// per-session CSRF token for forms, and its times.
//
// A session ends `idle_timeout` after its last request and at the latest
// `max_age` after login. Ids and CSRF tokens are 32 random bytes (OpenSSL
// RAND_bytes) as hex; the store is keyed by the id's SHA-256, so lookup time
// tells nothing about stored ids. At most `max_sessions` live at once: the
// least recently used is dropped for a new one. Thread-safe.
//
//   SessionStore sessions({.idle_timeout = absl::Minutes(30),
//                          .max_age = absl::Hours(12)});
//   Session s = sessions.Create(TokenSha256Hex(token), "alice");
//   std::optional<Session> again = sessions.Find(s.id);
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_SESSION_STORE_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_SESSION_STORE_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shapin::console {

struct Session {
  std::string id;            // the cookie's value
  std::string csrf_token;    // must come back with every form POST
  std::string token_sha256;  // empty: auth.required is false (anonymous)
  std::string identity;      // the name the token had at login
  absl::Time created;
  absl::Time last_seen;
  // Shown once on the next page (after a redirect): "rolled back to …".
  std::string notice = "";
};

struct SessionOptions {
  absl::Duration idle_timeout = absl::Minutes(30);
  absl::Duration max_age = absl::Hours(12);
  size_t max_sessions = 10000;
  // Injectable for tests; default absl::Now.
  std::function<absl::Time()> now = nullptr;
};

// 32 random bytes as 64 lower-case hex characters.
std::string RandomHexToken();

class SessionStore {
 public:
  explicit SessionStore(SessionOptions options);

  Session Create(std::string token_sha256, std::string identity);
  // The live session with this id, its last_seen moved to now; nullopt for
  // an unknown or expired one (which is then removed).
  std::optional<Session> Find(absl::string_view id);
  void Erase(absl::string_view id);
  // Keeps `notice` for the session's next page; TakeNotice returns it once.
  void SetNotice(absl::string_view id, std::string notice);
  std::string TakeNotice(absl::string_view id);
  // True when `csrf_token` is the session's own (compared in constant time).
  static bool CsrfMatches(const Session& session, absl::string_view csrf_token);
  size_t size() const;

 private:
  absl::Time Now() const;
  bool Expired(const Session& s, absl::Time now) const;
  void DropExpiredLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SessionOptions options_;
  mutable absl::Mutex mu_;
  // Keyed by SHA-256 of the id.
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_SESSION_STORE_H_

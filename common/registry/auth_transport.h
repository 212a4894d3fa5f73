// AuthTransport: registry authentication over an inner transport.
//
// Anonymous until a registry answers 401 with a WWW-Authenticate challenge;
// then, for that host:
//   - Basic: the host's credentials are sent with every request;
//   - Bearer: a token is fetched from the challenge's realm (GET
//     realm?service=…&scope=…, with the credentials as Basic auth when the
//     host has any, anonymously otherwise), cached per (host, scopes) until
//     shortly before `expires_in`, and sent as "Authorization: Bearer".
// The challenge is remembered, so later requests authenticate up front. A
// 401 with a cached token drops it and refreshes once; a second 401 is
// returned to the caller. Tokens and credentials are only attached to
// requests for the host they belong to (libcurl also drops the header on
// redirects to other hosts). Passwords and Basic values are registered with
// the logger's redaction; tokens never appear in messages (and the logger
// redacts "Bearer <token>" wherever it occurs).
//
//   absl::flat_hash_map<std::string, Credential> creds;
//   creds["ghcr.io"] = {"mconstant", pat};
//   AuthTransport auth(std::move(curl), creds, clock);
#ifndef SHAPIN_COMMON_REGISTRY_AUTH_TRANSPORT_H_
#define SHAPIN_COMMON_REGISTRY_AUTH_TRANSPORT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/auth_challenge.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"

namespace shapin::registry {

// Username and password (or personal access token) for one registry host.
struct Credential {
  std::string username;
  std::string password;
};

class AuthTransport : public HttpTransport {
 public:
  // `credentials` is keyed by "host[:port]" exactly as in image references
  // ("ghcr.io", "127.0.0.1:5000"). `clock` must outlive this transport.
  AuthTransport(std::unique_ptr<HttpTransport> inner,
                absl::flat_hash_map<std::string, Credential> credentials,
                Clock* clock);

  // Besides the inner transport's errors: UNAUTHENTICATED when the token
  // server rejects the credentials, UNAVAILABLE when it fails with 5xx or
  // cannot be reached, FAILED_PRECONDITION for a malformed token response.
  // A registry's own 401/403 is returned as a response.
  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest& request) override;

 private:
  struct CachedToken {
    std::string value;
    absl::Time expiry;
  };

  // The Authorization header value to send for `host`/`scopes`, nullopt for
  // anonymous; fetches a token when a bearer challenge is known and no
  // unexpired token is cached (or `refresh`).
  absl::StatusOr<std::optional<std::string>> AuthorizationFor(
      const std::string& host, const std::vector<std::string>& scopes,
      const HttpRequest& request, bool refresh);
  absl::StatusOr<CachedToken> FetchToken(const std::string& host,
                                         const AuthChallenge& challenge,
                                         const std::vector<std::string>& scopes,
                                         const HttpRequest& request);
  const Credential* CredentialFor(const std::string& host) const;

  std::unique_ptr<HttpTransport> inner_;
  absl::flat_hash_map<std::string, Credential> credentials_;
  Clock* clock_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, AuthChallenge> challenges_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, CachedToken> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_AUTH_TRANSPORT_H_

// Parsing of WWW-Authenticate headers (RFC 7235) as registries send them:
//
//   Bearer
//   realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"
//   Basic realm="Registry Realm"
//
//   std::vector<AuthChallenge> c = ParseWwwAuthenticate(header);
//   if (!c.empty() && c[0].scheme == "bearer") realm = c[0].Param("realm");
#ifndef SHAPIN_COMMON_REGISTRY_AUTH_CHALLENGE_H_
#define SHAPIN_COMMON_REGISTRY_AUTH_CHALLENGE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace shapin::registry {

struct AuthChallenge {
  std::string scheme;  // lower case: "basic", "bearer", ...
  // Parameter names lower case, values unquoted and unescaped, in order.
  std::vector<std::pair<std::string, std::string>> params;

  // The value of `name` (lower case), empty when absent.
  std::string Param(absl::string_view name) const;
};

// All challenges in one header value; malformed trailing parts are ignored
// (never an error: a registry's odd header must not hide its status code).
std::vector<AuthChallenge> ParseWwwAuthenticate(absl::string_view header);

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_AUTH_CHALLENGE_H_

#include "common/registry/auth_transport.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/registry/auth_challenge.h"
#include "common/registry/http.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::registry {
namespace {

constexpr absl::Duration kDefaultTokenLifetime = absl::Seconds(60);
constexpr absl::Duration kMaxExpiryMargin = absl::Seconds(30);

std::string BasicAuthorization(const Credential& cred) {
  return absl::StrCat(
      "Basic", " ",
      absl::Base64Escape(absl::StrCat(cred.username, ":", cred.password)));
}

// The challenge to act on: bearer first, then basic.
std::optional<AuthChallenge> PickChallenge(const HttpResponse& response) {
  std::optional<AuthChallenge> basic;
  for (const std::string& header : response.Headers("www-authenticate")) {
    for (AuthChallenge& c : ParseWwwAuthenticate(header)) {
      if (c.scheme == "bearer") return std::move(c);
      if (c.scheme == "basic" && !basic.has_value()) basic = std::move(c);
    }
  }
  return basic;
}

std::vector<std::string> MergeScopes(const std::vector<std::string>& a,
                                     absl::string_view challenge_scope) {
  std::vector<std::string> out = a;
  for (absl::string_view s :
       absl::StrSplit(challenge_scope, ' ', absl::SkipEmpty())) {
    out.emplace_back(s);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string TokenKey(const std::string& host,
                     const std::vector<std::string>& scopes) {
  return absl::StrCat(host, " ", absl::StrJoin(scopes, " "));
}

}  // namespace

AuthTransport::AuthTransport(
    std::unique_ptr<HttpTransport> inner,
    absl::flat_hash_map<std::string, Credential> credentials, Clock* clock)
    : inner_(std::move(inner)),
      credentials_(std::move(credentials)),
      clock_(clock) {
  for (const auto& [host, cred] : credentials_) {
    Logger::Global().AddSecret(cred.password);
    Logger::Global().AddSecret(BasicAuthorization(cred).substr(6));
  }
}

const Credential* AuthTransport::CredentialFor(const std::string& host) const {
  auto it = credentials_.find(host);
  if (it != credentials_.end()) return &it->second;
  // Docker Hub is addressed as docker.io but served by registry-1.docker.io.
  if (host == "registry-1.docker.io") {
    it = credentials_.find("docker.io");
    if (it != credentials_.end()) return &it->second;
  }
  return nullptr;
}

absl::StatusOr<AuthTransport::CachedToken> AuthTransport::FetchToken(
    const std::string& host, const AuthChallenge& challenge,
    const std::vector<std::string>& scopes, const HttpRequest& request) {
  std::string realm = challenge.Param("realm");
  if (realm.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("registry ", host, ": bearer challenge without a realm"));
  }
  std::vector<std::string> query;
  if (std::string service = challenge.Param("service"); !service.empty()) {
    query.push_back(absl::StrCat("service=", QueryEscape(service)));
  }
  for (const std::string& scope : scopes) {
    query.push_back(absl::StrCat("scope=", QueryEscape(scope)));
  }
  HttpRequest token_request;
  token_request.method = "GET";
  token_request.url = realm;
  if (!query.empty()) {
    token_request.url =
        absl::StrCat(realm, absl::StrContains(realm, '?') ? "&" : "?",
                     absl::StrJoin(query, "&"));
  }
  token_request.timeout = absl::Seconds(30);
  token_request.deadline = request.deadline;
  token_request.max_body_bytes = 1 << 20;
  const Credential* cred = CredentialFor(host);
  if (cred != nullptr) {
    token_request.headers.emplace_back("Authorization",
                                       BasicAuthorization(*cred));
  }
  absl::Time requested_at = clock_->Now();
  absl::StatusOr<HttpResponse> response = inner_->RoundTrip(token_request);
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat("registry ", host, ": token server: ",
                                     response.status().message()));
  }
  std::string where =
      absl::StrCat("registry ", host, ": token server ", RedactUrl(realm));
  if (response->status == 401 || response->status == 403) {
    return absl::UnauthenticatedError(absl::StrCat(
        where, " rejected ",
        cred == nullptr
            ? std::string("anonymous access")
            : absl::StrCat("the credentials of user ", cred->username),
        " for ", scopes.empty() ? "no scope" : absl::StrJoin(scopes, " "),
        ": HTTP ", response->status));
  }
  if (response->status >= 500 || response->status == 429 ||
      response->status == 408) {
    return absl::UnavailableError(
        absl::StrCat(where, ": HTTP ", response->status));
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": HTTP ", response->status));
  }
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr,
                                              /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": response is not a JSON object"));
  }
  CachedToken token;
  for (const char* field : {"token", "access_token"}) {
    auto it = body.find(field);
    if (it != body.end() && it->is_string() &&
        !it->get<std::string>().empty()) {
      token.value = it->get<std::string>();
      break;
    }
  }
  if (token.value.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": response has no token"));
  }
  // Short-lived tokens are not registered with the logger (one per scope
  // every few minutes would grow its list without bound); the client never
  // puts them in messages, and the logger redacts "Bearer <token>" anyway.
  absl::Duration lifetime = kDefaultTokenLifetime;
  if (auto it = body.find("expires_in");
      it != body.end() && it->is_number() && it->get<double>() > 0) {
    lifetime = absl::Seconds(it->get<double>());
  }
  absl::Duration margin = std::min(kMaxExpiryMargin, lifetime / 4);
  token.expiry = requested_at + lifetime - margin;
  return token;
}

absl::StatusOr<std::optional<std::string>> AuthTransport::AuthorizationFor(
    const std::string& host, const std::vector<std::string>& scopes,
    const HttpRequest& request, bool refresh) {
  std::optional<AuthChallenge> challenge;
  std::string key;
  {
    absl::MutexLock lock(&mu_);
    auto it = challenges_.find(host);
    if (it == challenges_.end()) return std::nullopt;
    challenge = it->second;
    if (challenge->scheme == "bearer") {
      key = TokenKey(host, scopes);
      auto tok = tokens_.find(key);
      if (tok != tokens_.end()) {
        if (!refresh && clock_->Now() < tok->second.expiry) {
          return absl::StrCat("Bearer ", tok->second.value);
        }
        tokens_.erase(tok);
      }
    }
  }
  if (challenge->scheme == "basic") {
    const Credential* cred = CredentialFor(host);
    if (cred == nullptr) return std::nullopt;
    return BasicAuthorization(*cred);
  }
  if (challenge->scheme != "bearer") return std::nullopt;
  SHAPIN_ASSIGN_OR_RETURN(CachedToken token,
                          FetchToken(host, *challenge, scopes, request));
  std::string header = absl::StrCat("Bearer ", token.value);
  absl::MutexLock lock(&mu_);
  tokens_[key] = std::move(token);
  return header;
}

absl::StatusOr<HttpResponse> AuthTransport::RoundTrip(
    const HttpRequest& request) {
  std::string host = UrlHost(request.url);
  SHAPIN_ASSIGN_OR_RETURN(
      std::optional<std::string> sent,
      AuthorizationFor(host, request.scopes, request, /*refresh=*/false));
  HttpRequest attempt = request;
  if (sent.has_value()) attempt.headers.emplace_back("Authorization", *sent);
  SHAPIN_ASSIGN_OR_RETURN(HttpResponse response, inner_->RoundTrip(attempt));
  if (response.status != 401) return response;

  std::optional<AuthChallenge> challenge = PickChallenge(response);
  if (!challenge.has_value()) return response;
  if (challenge->scheme == "basic") {
    // Credentials already sent and refused, or none to send: final.
    if (sent.has_value() || CredentialFor(host) == nullptr) return response;
  } else if (challenge->scheme != "bearer") {
    return response;
  }
  {
    absl::MutexLock lock(&mu_);
    challenges_[host] = *challenge;
  }
  std::vector<std::string> scopes =
      MergeScopes(request.scopes, challenge->Param("scope"));
  SHAPIN_ASSIGN_OR_RETURN(
      std::optional<std::string> header,
      AuthorizationFor(host, scopes, request, /*refresh=*/true));
  if (!header.has_value()) return response;
  attempt = request;
  attempt.headers.emplace_back("Authorization", *header);
  return inner_->RoundTrip(attempt);
}

}  // namespace shapin::registry

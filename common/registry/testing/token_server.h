// TokenServer: a tiny Docker-registry token server for tests (the bearer
// flow ghcr.io uses). Answers GET /token?service=…&scope=… with a JWT signed
// RS256 or ES256 by a key and self-signed certificate made with `openssl` for
// the test; the certificate is the registry's `rootcertbundle` and travels in
// the token's x5c header, as distribution 2.8 verifies it.
//
//   TokenServerOptions o;
//   o.username = "alice"; o.password = "s3cret";
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<TokenServer> ts,
//                           TokenServer::Start(o, work_dir));
//   registry_options.token_auth = ts->registry_config();
#ifndef SHAPIN_COMMON_REGISTRY_TESTING_TOKEN_SERVER_H_
#define SHAPIN_COMMON_REGISTRY_TESTING_TOKEN_SERVER_H_

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/testing/registry_server.h"
#include "common/registry/testing/tiny_http_server.h"

struct evp_pkey_st;

namespace shapin::registry::testing {

struct TokenServerOptions {
  std::string username;
  std::string password;
  std::string service = "shapin-test-registry";
  std::string issuer = "shapin-test-issuer";
  absl::Duration lifetime = absl::Minutes(5);
  // Grant pull scopes to requests without credentials.
  bool allow_anonymous_pull = false;
  // JWS algorithm: "RS256" (RSA 2048) or "ES256" (P-256).
  std::string algorithm = "RS256";
};

class TokenServer {
 public:
  // Generates the signing key and certificate in `work_dir`.
  static absl::StatusOr<std::unique_ptr<TokenServer>> Start(
      TokenServerOptions options, const std::filesystem::path& work_dir);
  ~TokenServer();

  std::string realm() const;  // "http://127.0.0.1:<port>/token"
  int port() const { return http_->port(); }
  TokenAuthConfig registry_config() const;
  int tokens_issued() const { return issued_.load(); }
  int rejected() const { return rejected_.load(); }
  // Every scope parameter received, in order.
  std::vector<std::string> scopes_requested() const;

 private:
  TokenServer(TokenServerOptions options, std::string cert_file,
              std::string cert_der_b64, evp_pkey_st* key);
  TinyHttpResponse Handle(const TinyHttpRequest& req);
  std::string SignJwt(const std::string& header, const std::string& claims);

  TokenServerOptions options_;
  std::string cert_file_;
  std::string cert_der_b64_;
  evp_pkey_st* key_;
  std::unique_ptr<TinyHttpServer> http_;
  std::atomic<int> issued_{0};
  std::atomic<int> rejected_{0};
  mutable absl::Mutex mu_;
  std::vector<std::string> scopes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::registry::testing

#endif  // SHAPIN_COMMON_REGISTRY_TESTING_TOKEN_SERVER_H_

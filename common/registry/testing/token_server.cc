#include "common/registry/testing/token_server.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::registry::testing {
namespace {

std::string Base64Url(absl::string_view data) {
  return absl::WebSafeBase64Escape(data);  // unpadded
}

// JWS ES256 wants r||s (32 bytes each); OpenSSL produces DER.
std::string EcdsaDerToJose(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return "";
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

// "repository:acme/app:pull,push" → access entry.
nlohmann::json AccessFor(absl::string_view scope, bool anonymous) {
  size_t first = scope.find(':');
  size_t last = scope.rfind(':');
  if (first == absl::string_view::npos || first == last) return nullptr;
  std::vector<std::string> actions;
  for (absl::string_view a :
       absl::StrSplit(scope.substr(last + 1), ',', absl::SkipEmpty())) {
    if (anonymous && a != "pull") continue;
    actions.emplace_back(a);
  }
  return {{"type", std::string(scope.substr(0, first))},
          {"name", std::string(scope.substr(first + 1, last - first - 1))},
          {"actions", actions}};
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenServer>> TokenServer::Start(
    TokenServerOptions options, const std::filesystem::path& work_dir) {
  std::string key_file = (work_dir / "token.key").string();
  std::string cert_file = (work_dir / "token.pem").string();
  std::vector<std::string> argv = {"openssl", "req", "-x509", "-newkey"};
  if (options.algorithm == "ES256") {
    argv.insert(argv.end(), {"ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"});
  } else if (options.algorithm == "RS256") {
    argv.push_back("rsa:2048");
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "token server: unsupported algorithm ", options.algorithm));
  }
  argv.insert(argv.end(),
              {"-nodes", "-keyout", key_file, "-out", cert_file, "-days", "2",
               "-subj", "/CN=shapin-test-token-issuer"});
  SHAPIN_RETURN_IF_ERROR(RunTool(std::move(argv)).status());
  std::FILE* kf = std::fopen(key_file.c_str(), "r");
  if (kf == nullptr) return absl::InternalError("cannot open token.key");
  EVP_PKEY* key = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
  std::fclose(kf);
  std::FILE* cf = std::fopen(cert_file.c_str(), "r");
  if (cf == nullptr) return absl::InternalError("cannot open token.pem");
  X509* cert = PEM_read_X509(cf, nullptr, nullptr, nullptr);
  std::fclose(cf);
  if (key == nullptr || cert == nullptr) {
    EVP_PKEY_free(key);
    X509_free(cert);
    return absl::InternalError("cannot parse token signing key/cert");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert, &der);
  std::string der_b64 = absl::Base64Escape(
      absl::string_view(reinterpret_cast<char*>(der), der_len));
  OPENSSL_free(der);
  X509_free(cert);
  std::unique_ptr<TokenServer> server(
      new TokenServer(std::move(options), cert_file, std::move(der_b64), key));
  SHAPIN_ASSIGN_OR_RETURN(
      server->http_,
      TinyHttpServer::Start([s = server.get()](const TinyHttpRequest& r) {
        return s->Handle(r);
      }));
  return server;
}

TokenServer::TokenServer(TokenServerOptions options, std::string cert_file,
                         std::string cert_der_b64, evp_pkey_st* key)
    : options_(std::move(options)),
      cert_file_(std::move(cert_file)),
      cert_der_b64_(std::move(cert_der_b64)),
      key_(key) {}

TokenServer::~TokenServer() {
  http_.reset();
  EVP_PKEY_free(key_);
}

std::string TokenServer::realm() const {
  return absl::StrCat("http://", http_->host(), "/token");
}

TokenAuthConfig TokenServer::registry_config() const {
  return TokenAuthConfig{realm(), options_.service, options_.issuer,
                         cert_file_};
}

std::vector<std::string> TokenServer::scopes_requested() const {
  absl::MutexLock lock(&mu_);
  return scopes_;
}

std::string TokenServer::SignJwt(const std::string& header,
                                 const std::string& claims) {
  std::string signing_input =
      absl::StrCat(Base64Url(header), ".", Base64Url(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
      EVP_DigestSign(
          ctx, nullptr, &sig_len,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) == 1) {
    sig.resize(sig_len);
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                   signing_input.size());
    sig.resize(sig_len);
  }
  EVP_MD_CTX_free(ctx);
  if (options_.algorithm == "ES256") sig = EcdsaDerToJose(sig);
  return absl::StrCat(signing_input, ".", Base64Url(sig));
}

TinyHttpResponse TokenServer::Handle(const TinyHttpRequest& req) {
  TinyHttpResponse resp;
  if (req.path() != "/token") {
    resp.status = 404;
    return resp;
  }
  bool anonymous = true;
  std::string auth = req.Header("Authorization");
  if (!auth.empty()) {
    std::string decoded;
    if (!absl::StartsWith(auth, "Basic ") ||
        !absl::Base64Unescape(auth.substr(6), &decoded) ||
        decoded != absl::StrCat(options_.username, ":", options_.password)) {
      ++rejected_;
      resp.status = 401;
      resp.body = R"({"details":"invalid credentials"})";
      return resp;
    }
    anonymous = false;
  } else if (!options_.allow_anonymous_pull) {
    ++rejected_;
    resp.status = 401;
    resp.body = R"({"details":"credentials required"})";
    return resp;
  }
  std::vector<std::string> scopes = req.QueryValues("scope");
  {
    absl::MutexLock lock(&mu_);
    scopes_.insert(scopes_.end(), scopes.begin(), scopes.end());
  }
  nlohmann::json access = nlohmann::json::array();
  for (const std::string& scope_param : scopes) {
    for (absl::string_view scope :
         absl::StrSplit(scope_param, ' ', absl::SkipEmpty())) {
      nlohmann::json a = AccessFor(scope, anonymous);
      if (!a.is_null()) access.push_back(std::move(a));
    }
  }
  int64_t now = absl::ToUnixSeconds(absl::Now());
  int64_t lifetime = absl::ToInt64Seconds(options_.lifetime);
  nlohmann::json header = {
      {"typ", "JWT"}, {"alg", options_.algorithm}, {"x5c", {cert_der_b64_}}};
  nlohmann::json claims = {
      {"iss", options_.issuer},
      {"sub", anonymous ? "" : options_.username},
      {"aud", options_.service},
      {"exp", now + lifetime},
      {"nbf", now - 5},
      {"iat", now},
      {"jti", absl::StrCat("shapin-test-", issued_.load(), "-", now)},
      {"access", access}};
  std::string token = SignJwt(header.dump(), claims.dump());
  ++issued_;
  resp.headers.emplace_back("Content-Type", "application/json");
  resp.body = nlohmann::json{
      {"token", token},
      {"access_token", token},
      {"expires_in",
       lifetime}}.dump();
  return resp;
}

}  // namespace shapin::registry::testing

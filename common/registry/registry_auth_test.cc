// RegistryClient against real docker-registry processes that need
// authentication: TLS + htpasswd (basic) with a CA made by the test, and
// bearer tokens from an in-test token server (the flow ghcr.io uses).
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/image_ref.h"
#include "common/log.h"
#include "common/registry/registry_client.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/registry/testing/status_matchers.h"
#include "common/registry/testing/tiny_http_server.h"
#include "common/registry/testing/token_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

using ::shapin::registry::testing::FakeClock;
using ::shapin::registry::testing::ForwardRequest;
using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::IsOkAndHolds;
using ::shapin::registry::testing::OciLayoutBuilder;
using ::shapin::registry::testing::RegistryServer;
using ::shapin::registry::testing::RegistryServerOptions;
using ::shapin::registry::testing::StatusIs;
using ::shapin::registry::testing::TempDir;
using ::shapin::registry::testing::TinyHttpRequest;
using ::shapin::registry::testing::TinyHttpResponse;
using ::shapin::registry::testing::TinyHttpServer;
using ::shapin::registry::testing::TokenServer;
using ::shapin::registry::testing::TokenServerOptions;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct-horse-battery-staple";

ImageRef Ref(absl::string_view text) {
  absl::StatusOr<ImageRef> r = ImageRef::Parse(text);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

struct SmallImage {
  std::unique_ptr<TempDir> dir;
  Digest manifest;
};

SmallImage MakeSmallImage(uint64_t seed) {
  auto dir = std::make_unique<TempDir>(*TempDir::Create("shapin-layout"));
  OciLayoutBuilder b = *OciLayoutBuilder::Create(dir->path());
  Descriptor l1 = *b.AddRandomBlob(64 << 10, seed * 10);
  Descriptor l2 = *b.AddRandomBlob(32 << 10, seed * 10 + 1);
  Descriptor m = *b.AddImage({l1, l2});
  EXPECT_THAT(b.WriteIndex({m}), IsOk());
  return SmallImage{std::move(dir), m.digest};
}

// Collects log lines (to check that no secret is ever written).
class LogCapture {
 public:
  LogCapture() {
    Logger::Global().SetSink([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.append(line.data(), line.size());
      lines_.push_back('\n');
    });
  }
  ~LogCapture() {
    Logger::Global().SetSink([](absl::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()),
                   line.data());
    });
  }
  std::string text() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  absl::Mutex mu_;
  std::string lines_;
};

// Push, resolve, list, copy and a missing tag: what every auth mode must do.
void ExerciseHappyPath(RegistryClient& client, const std::string& host,
                       uint64_t seed) {
  SmallImage img = MakeSmallImage(seed);
  ImageRef repo = Ref(absl::StrCat(host, "/auth/app", seed));
  absl::StatusOr<PushResult> pushed =
      client.PushOciLayout(img.dir->path(), repo, {"v1", "v2", "v3"});
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->digest, img.manifest);
  EXPECT_THAT(client.Resolve(*repo.with_tag("v2")), IsOkAndHolds(img.manifest));
  EXPECT_THAT(client.ListTags(repo, 2),
              IsOkAndHolds(UnorderedElementsAre("v1", "v2", "v3")));
  ImageRef dst = Ref(absl::StrCat(host, "/auth/copy", seed, ":promoted"));
  EXPECT_THAT(client.Copy(*repo.with_tag("v1"), dst),
              IsOkAndHolds(img.manifest));
  EXPECT_THAT(client.Resolve(dst), IsOkAndHolds(img.manifest));
  absl::StatusOr<Digest> missing = client.Resolve(*repo.with_tag("nope"));
  EXPECT_THAT(missing,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("MISSING_TAG")));
  EXPECT_EQ(ErrorCodeOf(missing.status()), ErrorCode::kMissingTag);
}

// --- TLS + htpasswd ---------------------------------------------------------

class TlsBasicAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegistryServerOptions o;
    o.tls = true;
    o.htpasswd_users = {{kUser, kPassword}};
    auto r = RegistryServer::Start(o);
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(registry_, nullptr);
    if (!registry_->running()) {
      ASSERT_THAT(registry_->Restart(), IsOk());
    }
  }

  std::unique_ptr<RegistryClient> Client(absl::string_view password,
                                         bool trust_ca = true) {
    RegistryClientOptions o;
    if (trust_ca) o.ca_file = registry_->ca_file();
    if (!password.empty()) {
      o.credentials[registry_->host()] =
          Credential{kUser, std::string(password)};
    }
    o.clock = &clock_;
    auto c = RegistryClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  static RegistryServer* registry_;
  FakeClock clock_;
};

RegistryServer* TlsBasicAuthTest::registry_ = nullptr;

TEST_F(TlsBasicAuthTest, PushResolveListCopyWithoutLeakingThePassword) {
  LogCapture logs;
  std::unique_ptr<RegistryClient> client = Client(kPassword);
  ASSERT_THAT(client->Ping(registry_->host()), IsOk());
  ExerciseHappyPath(*client, registry_->host(), 1);
  EXPECT_THAT(logs.text(), Not(HasSubstr(kPassword)));
  EXPECT_THAT(logs.text(), HasSubstr("registry_push"));
}

TEST_F(TlsBasicAuthTest, WrongPasswordIsUnauthenticated) {
  std::unique_ptr<RegistryClient> client = Client("wrong-password");
  absl::StatusOr<Digest> d =
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/auth/x:v1")));
  EXPECT_THAT(
      d, StatusIs(
             absl::StatusCode::kUnauthenticated,
             AllOf(HasSubstr("HTTP 401"), HasSubstr(registry_->host()),
                   HasSubstr("auth/x:v1"), Not(HasSubstr("wrong-password")))));
  EXPECT_THAT(client->Ping(registry_->host()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("401")));
}

TEST_F(TlsBasicAuthTest, NoCredentialsIsUnauthenticated) {
  std::unique_ptr<RegistryClient> client = Client("");
  EXPECT_THAT(
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/auth/x:v1"))),
      StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("HTTP 401")));
}

TEST_F(TlsBasicAuthTest, UnknownCaFailsVerification) {
  std::unique_ptr<RegistryClient> client = Client(kPassword, false);
  absl::StatusOr<Digest> d =
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/auth/x:v1")));
  EXPECT_THAT(d, StatusIs(absl::StatusCode::kFailedPrecondition,
                          AllOf(HasSubstr("tls certificate verification"),
                                HasSubstr(registry_->host()))));
  // Never retried, never downgraded to plain HTTP.
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(TlsBasicAuthTest, ConnectionErrorsAreRetried) {
  std::unique_ptr<RegistryClient> client = Client(kPassword);
  SmallImage img = MakeSmallImage(2);
  ImageRef repo = Ref(absl::StrCat(registry_->host(), "/auth/retry"));
  ASSERT_THAT(client->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  ASSERT_THAT(registry_->Stop(), IsOk());
  int sleeps = 0;
  clock_.set_on_sleep([&](absl::Duration) {
    if (++sleeps == 1) {
      ASSERT_THAT(registry_->Restart(), IsOk());
    }
  });
  EXPECT_THAT(client->Resolve(*repo.with_tag("v1")),
              IsOkAndHolds(img.manifest));
  EXPECT_EQ(sleeps, 1);
  clock_.set_on_sleep(nullptr);
}

// --- TLS server name
// ---------------------------------------------------------- The registry is
// reached at 127.0.0.1:<port>, but its certificate names only
// registry.shapin.test (an operator reaching it by IP or through a tunnel).

constexpr char kServerName[] = "registry.shapin.test";

class TlsServerNameTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegistryServerOptions o;
    o.tls = true;
    o.tls_subject_alt_names = {absl::StrCat("DNS:", kServerName)};
    o.htpasswd_users = {{kUser, kPassword}};
    auto r = RegistryServer::Start(o);
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr); }

  std::unique_ptr<RegistryClient> Client(absl::string_view server_name) {
    RegistryClientOptions o;
    o.ca_file = registry_->ca_file();
    o.credentials[registry_->host()] = Credential{kUser, kPassword};
    if (!server_name.empty()) {
      o.tls_server_names[registry_->host()] = std::string(server_name);
    }
    // Chunked uploads: every PATCH follows the Location of the one before.
    o.chunk_size_bytes = 16 << 10;
    o.clock = &clock_;
    auto c = RegistryClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  static RegistryServer* registry_;
  FakeClock clock_;
};

RegistryServer* TlsServerNameTest::registry_ = nullptr;

TEST_F(TlsServerNameTest, PushAndPullThroughTheAddressWithTheServerName) {
  LogCapture logs;
  std::unique_ptr<RegistryClient> client = Client(kServerName);
  ASSERT_THAT(client->Ping(registry_->host()), IsOk());
  // Upload Locations come back naming registry.shapin.test (the Host we
  // sent); they must still reach 127.0.0.1 and carry the credentials.
  ExerciseHappyPath(*client, registry_->host(), 11);

  SmallImage img = MakeSmallImage(12);
  ImageRef repo = Ref(absl::StrCat(registry_->host(), "/named/app"));
  ASSERT_THAT(client->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  absl::StatusOr<Manifest> manifest = client->GetManifest(*repo.with_tag("v1"));
  ASSERT_THAT(manifest, IsOk());
  EXPECT_EQ(manifest->digest, img.manifest);
  absl::StatusOr<ManifestInfo> info =
      ParseManifest(manifest->bytes, manifest->media_type);
  ASSERT_THAT(info, IsOk());
  ASSERT_EQ(info->layers.size(), 2u);
  for (const Descriptor& layer : info->layers) {
    EXPECT_THAT(client->FetchBlob(repo, layer.digest, layer.size,
                                  img.dir->path() / "pulled"),
                IsOk());
  }
  EXPECT_THAT(logs.text(), Not(HasSubstr(kPassword)));
}

TEST_F(TlsServerNameTest, WithoutServerNameTheCertificateDoesNotMatch) {
  std::unique_ptr<RegistryClient> client = Client("");
  EXPECT_THAT(
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/named/x:v1"))),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("tls certificate verification failed"),
                     HasSubstr(absl::StrCat("does not match host ",
                                            registry_->host())),
                     HasSubstr("set tls_server_name"))));
  EXPECT_TRUE(clock_.sleeps().empty());  // not retried
}

TEST_F(TlsServerNameTest, WrongServerNameFails) {
  std::unique_ptr<RegistryClient> client = Client("other.shapin.test");
  EXPECT_THAT(
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/named/x:v1"))),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr("for server name other.shapin.test"),
                HasSubstr("does not match"), HasSubstr(registry_->host()))));
}

// A loopback registry is normally probed and spoken to over plain HTTP when
// it does not speak TLS. With a server name configured the operator said it
// is TLS: a plain-HTTP registry must be an error, never a silent downgrade.
TEST(TlsServerNameDowngradeTest, PlainHttpLoopbackRegistryIsNotUsed) {
  auto plain = RegistryServer::Start(RegistryServerOptions{});
  ASSERT_TRUE(plain.ok()) << plain.status();
  const std::string host = (*plain)->host();
  ImageRef ref = Ref(absl::StrCat(host, "/named/x:v1"));

  RegistryClientOptions without;
  auto probing = RegistryClient::Create(std::move(without));
  ASSERT_TRUE(probing.ok()) << probing.status();
  // Reached over plain HTTP: the tag is simply missing.
  EXPECT_EQ((*probing)->Resolve(ref).status().code(),
            absl::StatusCode::kNotFound);

  RegistryClientOptions with;
  with.tls_server_names[host] = kServerName;
  FakeClock clock;
  with.clock = &clock;
  auto named = RegistryClient::Create(std::move(with));
  ASSERT_TRUE(named.ok()) << named.status();
  absl::StatusOr<Digest> d = (*named)->Resolve(ref);
  EXPECT_FALSE(d.ok());
  EXPECT_NE(d.status().code(), absl::StatusCode::kNotFound) << d.status();
  EXPECT_THAT(d.status().message(), HasSubstr(kServerName));
}

TEST(TlsServerNameOptionsTest, UnusableNamesAndAddressesAreRefused) {
  struct Case {
    const char* name;
    std::string address;
    std::string server_name;
  };
  const Case cases[] = {
      {"name with port", "10.0.0.5:5000", "registry.example:5000"},
      {"ip literal name", "10.0.0.5", "[::1]"},
      {"empty name", "10.0.0.5", ""},
      {"name with space", "10.0.0.5", "registry example"},
      {"address with path", "10.0.0.5/v2", "registry.example"},
      {"address with user", "user@10.0.0.5", "registry.example"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RegistryClientOptions o;
    o.tls_server_names[c.address] = c.server_name;
    EXPECT_THAT(RegistryClient::Create(std::move(o)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("tls server name")));
  }
  // IPv6 addresses and default ports are fine.
  for (const char* address : {"[fd00::5]:5000", "[fd00::5]", "10.0.0.5"}) {
    SCOPED_TRACE(address);
    RegistryClientOptions o;
    o.tls_server_names[address] = "registry.example";
    EXPECT_THAT(RegistryClient::Create(std::move(o)), IsOk());
  }
}

// --- bearer tokens
// ------------------------------------------------------------

class TokenAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir(*TempDir::Create("shapin-token"));
    TokenServerOptions to;
    to.username = kUser;
    to.password = kPassword;
    auto ts = TokenServer::Start(to, work_->path());
    ASSERT_TRUE(ts.ok()) << ts.status();
    tokens_ = ts->release();
    // The realm is a proxy in front of the token server, so tests can make
    // the token endpoint fail.
    int upstream = tokens_->port();
    auto proxy = TinyHttpServer::Start([upstream](const TinyHttpRequest& req) {
      if (fail_token_requests_ > 0) {
        --fail_token_requests_;
        TinyHttpResponse r;
        r.status = 500;
        return r;
      }
      absl::StatusOr<TinyHttpResponse> r = ForwardRequest(req, upstream);
      if (!r.ok()) return TinyHttpResponse{502, {}, ""};
      return *r;
    });
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    token_proxy_ = proxy->release();
    RegistryServerOptions o;
    o.token_auth = tokens_->registry_config();
    o.token_auth->realm =
        absl::StrCat("http://", token_proxy_->host(), "/token");
    auto r = RegistryServer::Start(o);
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete token_proxy_;
    delete tokens_;
    delete work_;
  }

  std::unique_ptr<RegistryClient> Client(absl::string_view password) {
    RegistryClientOptions o;
    if (!password.empty()) {
      o.credentials[registry_->host()] =
          Credential{kUser, std::string(password)};
    }
    o.clock = &clock_;
    auto c = RegistryClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  static TempDir* work_;
  static TokenServer* tokens_;
  static TinyHttpServer* token_proxy_;
  static RegistryServer* registry_;
  static std::atomic<int> fail_token_requests_;
  FakeClock clock_;
};

TempDir* TokenAuthTest::work_ = nullptr;
TokenServer* TokenAuthTest::tokens_ = nullptr;
TinyHttpServer* TokenAuthTest::token_proxy_ = nullptr;
RegistryServer* TokenAuthTest::registry_ = nullptr;
std::atomic<int> TokenAuthTest::fail_token_requests_{0};

TEST_F(TokenAuthTest, PushResolveListCopyWithoutLeakingSecrets) {
  LogCapture logs;
  std::unique_ptr<RegistryClient> client = Client(kPassword);
  ExerciseHappyPath(*client, registry_->host(), 3);
  EXPECT_GT(tokens_->tokens_issued(), 0);
  // The copy asked for pull on its source repository (cross-repo mount).
  std::vector<std::string> scopes = tokens_->scopes_requested();
  EXPECT_TRUE(std::any_of(
      scopes.begin(), scopes.end(),
      [](const std::string& s) { return s == "repository:auth/app3:pull"; }));
  EXPECT_THAT(logs.text(), Not(HasSubstr(kPassword)));
}

TEST_F(TokenAuthTest, TokensAreCachedPerScopeUntilExpiry) {
  std::unique_ptr<RegistryClient> client = Client(kPassword);
  SmallImage img = MakeSmallImage(4);
  ImageRef ref = Ref(absl::StrCat(registry_->host(), "/auth/cache:v1"));
  ASSERT_THAT(
      client->PushOciLayout(img.dir->path(), ref.repository_only(), {"v1"}),
      IsOk());
  ASSERT_THAT(client->Resolve(ref), IsOk());
  int issued = tokens_->tokens_issued();
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(client->Resolve(ref), IsOkAndHolds(img.manifest));
  }
  EXPECT_EQ(tokens_->tokens_issued(), issued);  // cached
  clock_.Advance(absl::Minutes(10));            // past expires_in (5 min)
  ASSERT_THAT(client->Resolve(ref), IsOkAndHolds(img.manifest));
  EXPECT_EQ(tokens_->tokens_issued(), issued + 1);
}

TEST_F(TokenAuthTest, WrongPasswordIsRejectedByTheTokenServer) {
  std::unique_ptr<RegistryClient> client = Client("not-the-password");
  absl::StatusOr<Digest> d =
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/auth/x:v1")));
  EXPECT_THAT(d,
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("token server"), HasSubstr("user alice"),
                             HasSubstr(registry_->host()),
                             Not(HasSubstr("not-the-password")))));
}

TEST_F(TokenAuthTest, AnonymousIsRejected) {
  std::unique_ptr<RegistryClient> client = Client("");
  EXPECT_THAT(
      client->Resolve(Ref(absl::StrCat(registry_->host(), "/auth/x:v1"))),
      StatusIs(absl::StatusCode::kUnauthenticated,
               HasSubstr("anonymous access")));
}

TEST_F(TokenAuthTest, TokenServerErrorsAreRetried) {
  std::unique_ptr<RegistryClient> client = Client(kPassword);
  SmallImage img = MakeSmallImage(5);
  ImageRef ref = Ref(absl::StrCat(registry_->host(), "/auth/flaky:v1"));
  fail_token_requests_ = 2;
  ASSERT_THAT(
      client->PushOciLayout(img.dir->path(), ref.repository_only(), {"v1"}),
      IsOk());
  EXPECT_EQ(fail_token_requests_.load(), 0);
  EXPECT_GE(clock_.sleeps().size(), 2u);
  EXPECT_THAT(client->Resolve(ref), IsOkAndHolds(img.manifest));
}

TEST_F(TokenAuthTest, ReadOnlyClientReadsButNeverWrites) {
  std::unique_ptr<RegistryClient> writer = Client(kPassword);
  SmallImage img = MakeSmallImage(6);
  ImageRef ref = Ref(absl::StrCat(registry_->host(), "/auth/ro:v1"));
  ASSERT_THAT(
      writer->PushOciLayout(img.dir->path(), ref.repository_only(), {"v1"}),
      IsOk());
  RegistryClientOptions o;
  o.credentials[registry_->host()] = Credential{kUser, kPassword};
  o.read_only = true;
  o.clock = &clock_;
  std::unique_ptr<RegistryClient> reader = *RegistryClient::Create(o);
  EXPECT_THAT(reader->Resolve(ref), IsOkAndHolds(img.manifest));
  EXPECT_THAT(
      reader->PushOciLayout(img.dir->path(), ref.repository_only(), {"v2"}),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("read-only")));
  EXPECT_THAT(reader->Exists(*ref.with_tag("v2")), IsOkAndHolds(false));
}

TEST(TokenAuthEs256Test, RegistryAcceptsEs256SignedTokens) {
  TempDir work = *TempDir::Create("shapin-token-es");
  TokenServerOptions to;
  to.username = kUser;
  to.password = kPassword;
  to.algorithm = "ES256";
  auto ts = TokenServer::Start(to, work.path());
  ASSERT_THAT(ts, IsOk());
  RegistryServerOptions o;
  o.token_auth = (*ts)->registry_config();
  auto registry = RegistryServer::Start(o);
  ASSERT_THAT(registry, IsOk());
  RegistryClientOptions co;
  co.credentials[(*registry)->host()] = Credential{kUser, kPassword};
  std::unique_ptr<RegistryClient> client = *RegistryClient::Create(co);
  SmallImage img = MakeSmallImage(7);
  ImageRef repo = Ref(absl::StrCat((*registry)->host(), "/auth/es256"));
  ASSERT_THAT(client->PushOciLayout(img.dir->path(), repo, {"v1"}), IsOk());
  EXPECT_THAT(client->Resolve(*repo.with_tag("v1")),
              IsOkAndHolds(img.manifest));
  EXPECT_GT((*ts)->tokens_issued(), 0);
}

// --- where credentials go
// -----------------------------------------------------

// A fake registry (what real ones do but docker-registry will not do on
// demand): bearer challenge, a token that can be revoked, and blob reads
// redirected to a separate storage host.
class BearerFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = TinyHttpServer::Start([this](const TinyHttpRequest& req) {
      absl::MutexLock lock(&mu_);
      storage_auth_.push_back(req.Header("Authorization"));
      TinyHttpResponse r;
      r.body = blob_;
      return r;
    });
    ASSERT_THAT(storage, IsOk());
    storage_ = std::move(*storage);
    auto tokens = TinyHttpServer::Start([this](const TinyHttpRequest& req) {
      absl::MutexLock lock(&mu_);
      token_auth_.push_back(req.Header("Authorization"));
      ++issued_;
      TinyHttpResponse r;
      r.body = absl::StrCat(R"({"token":"tok-)", issued_,
                            R"(-secretvalue","expires_in":300})");
      return r;
    });
    ASSERT_THAT(tokens, IsOk());
    tokens_ = std::move(*tokens);
    auto registry = TinyHttpServer::Start(
        [this](const TinyHttpRequest& req) { return Registry(req); });
    ASSERT_THAT(registry, IsOk());
    registry_ = std::move(*registry);
    RegistryClientOptions o;
    o.credentials[registry_->host()] = Credential{kUser, kPassword};
    o.clock = &clock_;
    client_ = std::move(*RegistryClient::Create(o));
  }

  TinyHttpResponse Registry(const TinyHttpRequest& req) {
    absl::MutexLock lock(&mu_);
    registry_auth_.push_back(req.Header("Authorization"));
    TinyHttpResponse r;
    std::string valid =
        absl::StrCat("Bearer tok-", accepted_token_, "-secretvalue");
    if (req.Header("Authorization") != valid) {
      r.status = 401;
      r.headers.emplace_back(
          "WWW-Authenticate",
          absl::StrCat(
              R"(Bearer realm="http://)", tokens_->host(),
              R"(/token",service="fake",scope="repository:app:pull")"));
      return r;
    }
    if (req.path() == "/v2/") return r;
    r.status = 307;
    r.headers.emplace_back("Location", absl::StrCat("http://", storage_->host(),
                                                    "/blob?X-Sig=presigned"));
    return r;
  }

  ImageRef App() { return Ref(absl::StrCat(registry_->host(), "/app")); }

  absl::Mutex mu_;
  std::string blob_ = "layer bytes behind a redirect";
  int issued_ = 0;
  int accepted_token_ = 1;
  std::vector<std::string> storage_auth_, token_auth_, registry_auth_;
  std::unique_ptr<TinyHttpServer> storage_, tokens_, registry_;
  FakeClock clock_;
  std::unique_ptr<RegistryClient> client_;
};

TEST_F(BearerFlowTest, TokenGoesToTheRegistryOnlyNeverToRedirectTargets) {
  TempDir dir = *TempDir::Create("shapin-bearer");
  ASSERT_THAT(client_->FetchBlob(App(), Digest::OfBytes(blob_), -1,
                                 dir.path() / "blob"),
              IsOk());
  absl::MutexLock lock(&mu_);
  ASSERT_FALSE(storage_auth_.empty());
  for (const std::string& a : storage_auth_) EXPECT_EQ(a, "");
  // The token server got the credentials as Basic auth, nothing else did.
  ASSERT_EQ(token_auth_.size(), 1u);
  EXPECT_THAT(token_auth_[0], ::testing::StartsWith("Basic "));
  for (const std::string& a : registry_auth_) {
    EXPECT_THAT(a, Not(HasSubstr("Basic")));
  }
}

TEST_F(BearerFlowTest, RejectedTokenIsRefreshedOnce) {
  ASSERT_THAT(client_->Ping(registry_->host()), IsOk());
  {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(issued_, 1);
    accepted_token_ = 2;  // the registry revokes token 1
  }
  EXPECT_THAT(client_->Ping(registry_->host()), IsOk());
  {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(issued_, 2);
    accepted_token_ = 99;  // nothing the token server issues is accepted
  }
  // One refresh, then the 401 is the answer (no loop).
  EXPECT_THAT(
      client_->Ping(registry_->host()),
      StatusIs(absl::StatusCode::kUnauthenticated,
               AllOf(HasSubstr("HTTP 401"), Not(HasSubstr("secretvalue")))));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(issued_, 3);
}

}  // namespace
}  // namespace shapin::registry

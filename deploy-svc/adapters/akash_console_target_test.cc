// AkashConsoleTarget against tests/fakes/akash-console/server.js, a
// stateful simulator of the Console API (deployments, bids, leases, hashes)
// with failure controls. Time is a FakeClock: backoff and bid polling do
// not sleep.
#include "deploy-svc/adapters/akash_console_target.h"

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/registry/curl_transport.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/registry_server.h"
#include "common/registry/testing/status_matchers.h"
#include "common/registry/testing/tiny_http_server.h"
#include "deploy-svc/sdl_renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/fakes/background_process.h"

namespace shapin::deploy {
namespace {

using json = nlohmann::json;
using ::shapin::registry::testing::FakeClock;
using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "console-key-6f1e2d3c4b5a";
constexpr char kKeyEnv[] = "SHAPIN_TEST_AKASH_CONSOLE_KEY";
constexpr char kWrongKeyEnv[] = "SHAPIN_TEST_AKASH_CONSOLE_WRONG_KEY";
constexpr char kWrongKey[] = "wrong-key-0a9b8c7d6e5f";
constexpr char kShaA[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr char kShaB[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr char kDigestA[] =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kDigestB[] =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";
constexpr char kAlpha[] = "akash1provideralpha";
constexpr char kBeta[] = "akash1providerbeta";
constexpr char kGamma[] = "akash1providergamma";

ImageRef Pinned(const char* sha, const char* digest) {
  return *ImageRef::Parse(
      absl::StrCat("ghcr.io/mconstant/pay2slay-api:", sha, "@", digest));
}

std::string Template() {
  std::ifstream in(std::string(SHAPIN_SOURCE_DIR) +
                   "/deploy/akash/pay2slay-api.sdl.yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Sdl(const char* sha, const char* digest) {
  const std::string tmpl = Template();
  absl::StatusOr<std::string> sdl =
      RenderSdl({.template_yaml = tmpl,
                 .service = "api",
                 .image = Pinned(sha, digest),
                 .env = ImageEnv(Pinned(sha, digest))});
  EXPECT_TRUE(sdl.ok()) << sdl.status();
  return *sdl;
}

class AkashConsoleTargetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv(kKeyEnv, kKey, 1);
    setenv(kWrongKeyEnv, kWrongKey, 1);
    absl::StatusOr<std::unique_ptr<testing::BackgroundProcess>> fake =
        testing::BackgroundProcess::Start(
            {"node",
             std::string(SHAPIN_SOURCE_DIR) +
                 "/tests/fakes/akash-console/server.js",
             "--api-key", kKey});
    ASSERT_THAT(fake, IsOk());
    absl::StatusOr<std::string> port = (*fake)->ReadLine(absl::Seconds(15));
    ASSERT_THAT(port, IsOk());
    base_url_ = new std::string(absl::StrCat("http://127.0.0.1:", *port));
    fake_ = fake->release();
  }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(fake_, nullptr);
    auto curl = registry::CurlTransport::Create({});
    ASSERT_THAT(curl, IsOk());
    control_ = std::move(*curl);
    Control("POST", "/__control/reset");
    Logger::Global().SetSink([this](absl::string_view line) {
      absl::MutexLock lock(&log_mu_);
      log_.push_back(std::string(line));
    });
  }
  void TearDown() override { Logger::Global().SetSink(nullptr); }

  json Control(const std::string& method, const std::string& path,
               const std::string& body = "") {
    registry::HttpRequest req;
    req.method = method;
    req.url = *base_url_ + path;
    req.body = body;
    if (!body.empty()) req.headers = {{"Content-Type", "application/json"}};
    absl::StatusOr<registry::HttpResponse> resp = control_->RoundTrip(req);
    EXPECT_THAT(resp, IsOk());
    if (!resp.ok()) return json();
    EXPECT_EQ(resp->status, 200) << resp->body;
    return json::parse(resp->body);
  }

  // An existing, leased, running deployment of A; returns its dseq.
  std::string Seed() {
    json seeded = Control("POST", "/__control/seed",
                          json{{"sdl", Sdl(kShaA, kDigestA)}}.dump());
    return seeded["dseq"].get<std::string>();
  }

  std::unique_ptr<AkashConsoleTarget> MakeTarget(
      const char* key_env = kKeyEnv) {
    AkashConsoleOptions o;
    o.base_url = *base_url_;
    o.api_key_env = key_env;
    o.clock = &clock_;
    o.bid_timeout = absl::Seconds(30);
    o.bid_poll_interval = absl::Seconds(3);
    absl::StatusOr<std::unique_ptr<AkashConsoleTarget>> t =
        AkashConsoleTarget::Create(std::move(o));
    EXPECT_THAT(t, IsOk());
    return t.ok() ? std::move(*t) : nullptr;
  }

  ApplyRequest Request(const char* sha, const char* digest,
                       TargetSettings settings) {
    return ApplyRequest{.environment = "production",
                        .manifest = Sdl(sha, digest),
                        .image = Pinned(sha, digest),
                        .git_sha = *GitSha::Parse(sha),
                        .settings = std::move(settings)};
  }

  RolloutQuery Query(const ApplyResult& applied, const char* sha,
                     const char* digest) {
    return RolloutQuery{.environment = "production",
                        .image = Pinned(sha, digest),
                        .target_ref = applied.target_ref,
                        .previous_revision = applied.previous_revision};
  }

  // Polls like the orchestrator (fake time): the last status.
  RolloutStatus PollRollout(AkashConsoleTarget& target,
                            const RolloutQuery& query, int max_polls) {
    RolloutStatus last;
    for (int i = 0; i < max_polls; ++i) {
      absl::StatusOr<RolloutStatus> s = target.CheckRollout(query);
      EXPECT_THAT(s, IsOk());
      if (!s.ok()) return last;
      last = *s;
      if (last.done) break;
      clock_.Sleep(absl::Seconds(5));
    }
    return last;
  }

  std::vector<json> RequestsTo(const std::string& method,
                               const std::string& path) {
    std::vector<json> out;
    for (const json& r : Control("GET", "/__control/requests")) {
      if (r["method"] == method && r["path"] == path) out.push_back(r);
    }
    return out;
  }

  std::string AllLogs() {
    absl::MutexLock lock(&log_mu_);
    return absl::StrJoin(log_, "\n");
  }

  static testing::BackgroundProcess* fake_;
  static std::string* base_url_;
  FakeClock clock_;
  std::unique_ptr<registry::CurlTransport> control_;
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

testing::BackgroundProcess* AkashConsoleTargetTest::fake_ = nullptr;
std::string* AkashConsoleTargetTest::base_url_ = nullptr;

TEST_F(AkashConsoleTargetTest, UpdatesExistingDeploymentAndSeesNewHash) {
  const std::string dseq = Seed();
  auto target = MakeTarget();
  absl::StatusOr<ApplyResult> applied =
      target->Apply(Request(kShaB, kDigestB, {{"dseq", dseq}}));
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->target_ref, dseq);
  EXPECT_FALSE(applied->previous_revision.empty());
  EXPECT_NE(applied->revision, applied->previous_revision);
  EXPECT_THAT(applied->endpoints,
              ::testing::ElementsAre(HasSubstr("http://api-")));

  // The PUT carried exactly the rendered SDL, wrapped as the API wants,
  // with the key in x-api-key.
  std::vector<json> puts =
      RequestsTo("PUT", absl::StrCat("/v1/deployments/", dseq));
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0]["apiKey"], kKey);
  EXPECT_EQ(json::parse(puts[0]["body"].get<std::string>()),
            (json{{"data", {{"sdl", Sdl(kShaB, kDigestB)}}}}));
  json deployments = Control("GET", "/__control/deployments");
  EXPECT_EQ(deployments[0]["image"], Pinned(kShaB, kDigestB).ToString());

  // First poll: the new hash is there but replicas are still coming up.
  RolloutQuery query = Query(*applied, kShaB, kDigestB);
  absl::StatusOr<RolloutStatus> first = target->CheckRollout(query);
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->done);
  EXPECT_THAT(first->detail, HasSubstr("api: 0/1 available"));
  RolloutStatus last = PollRollout(*target, query, 5);
  EXPECT_TRUE(last.done) << last.detail;
  EXPECT_EQ(last.revision, applied->revision);
  // Never logged.
  EXPECT_THAT(AllLogs(), Not(HasSubstr(kKey)));
}

TEST_F(AkashConsoleTargetTest, UsesPreviousTargetRefAsDseq) {
  const std::string dseq = Seed();
  auto target = MakeTarget();
  ApplyRequest request = Request(kShaB, kDigestB, {});
  request.previous_target_ref = dseq;
  absl::StatusOr<ApplyResult> applied = target->Apply(request);
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->target_ref, dseq);
}

TEST_F(AkashConsoleTargetTest, RetriesServerErrorsThenSucceeds) {
  const std::string dseq = Seed();
  Control("POST", "/__control/fail-next?status=500&count=2&method=PUT");
  auto target = MakeTarget();
  absl::StatusOr<ApplyResult> applied =
      target->Apply(Request(kShaB, kDigestB, {{"dseq", dseq}}));
  ASSERT_THAT(applied, IsOk());
  EXPECT_NE(applied->revision, applied->previous_revision);
  EXPECT_EQ(RequestsTo("PUT", absl::StrCat("/v1/deployments/", dseq)).size(),
            3u);
  EXPECT_THAT(clock_.sleeps(), ::testing::ElementsAre(absl::Milliseconds(500),
                                                      absl::Seconds(1)));
  EXPECT_TRUE(PollRollout(*target, Query(*applied, kShaB, kDigestB), 5).done);
}

TEST_F(AkashConsoleTargetTest, PersistentServerErrorsAreUnavailable) {
  const std::string dseq = Seed();
  Control("POST", "/__control/fail-next?status=503&count=100&method=PUT");
  auto target = MakeTarget();
  EXPECT_THAT(
      target->Apply(Request(kShaB, kDigestB, {{"dseq", dseq}})),
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("HTTP 503"), HasSubstr("after 5 attempts"))));
  EXPECT_EQ(clock_.sleeps().size(), 4u);
}

TEST_F(AkashConsoleTargetTest, FrozenHashIsReportedAsNotRolledOut) {
  const std::string dseq = Seed();
  Control("POST", "/__control/freeze-hash");
  auto target = MakeTarget();
  absl::StatusOr<ApplyResult> applied =
      target->Apply(Request(kShaB, kDigestB, {{"dseq", dseq}}));
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->revision, applied->previous_revision);
  RolloutStatus last =
      PollRollout(*target, Query(*applied, kShaB, kDigestB), 4);
  EXPECT_FALSE(last.done);
  EXPECT_THAT(last.detail, HasSubstr("hash unchanged"));
  // A forced redeploy of what already runs expects no change.
  RolloutQuery same = Query(*applied, kShaB, kDigestB);
  same.expect_revision_change = false;
  EXPECT_TRUE(PollRollout(*target, same, 2).done);
}

TEST_F(AkashConsoleTargetTest, WrongApiKeyIsTargetFailureWithoutTheKey) {
  const std::string dseq = Seed();
  auto target = MakeTarget(kWrongKeyEnv);
  absl::StatusOr<ApplyResult> applied =
      target->Apply(Request(kShaB, kDigestB, {{"dseq", dseq}}));
  EXPECT_THAT(applied,
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("TARGET_FAILURE"), HasSubstr("HTTP 401"),
                             Not(HasSubstr(kWrongKey)))));
  EXPECT_EQ(ErrorCodeOf(applied.status()), ErrorCode::kTargetFailure);
  EXPECT_TRUE(clock_.sleeps().empty());  // 401 is not retried
  EXPECT_THAT(AllLogs(), Not(HasSubstr(kWrongKey)));
}

TEST_F(AkashConsoleTargetTest, MissingKeyVariableIsAStartupError) {
  AkashConsoleOptions o;
  o.base_url = *base_url_;
  o.api_key_env = "SHAPIN_TEST_UNSET_VARIABLE";
  EXPECT_THAT(AkashConsoleTarget::Create(std::move(o)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("SHAPIN_TEST_UNSET_VARIABLE")));
  AkashConsoleOptions plain;
  plain.base_url = "http://console.example.com";
  plain.api_key_env = kKeyEnv;
  EXPECT_THAT(
      AkashConsoleTarget::Create(std::move(plain)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be https")));
}

TEST_F(AkashConsoleTargetTest, BadSdlIsRefusedByTheApi) {
  const std::string dseq = Seed();
  auto target = MakeTarget();
  ApplyRequest request = Request(kShaB, kDigestB, {{"dseq", dseq}});
  request.manifest = "version: \"1.0\"\nservices: {}\n";
  EXPECT_THAT(target->Apply(request),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("HTTP 400"), HasSubstr("Invalid SDL"))));
}

TEST_F(AkashConsoleTargetTest, UnknownDseqIsTargetFailure) {
  auto target = MakeTarget();
  EXPECT_THAT(target->Apply(Request(kShaB, kDigestB, {{"dseq", "424242"}})),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("HTTP 404"),
                             HasSubstr("/v1/deployments/424242"))));
}

TEST_F(AkashConsoleTargetTest, CreatesWithCheapestAllowedBid) {
  Control("POST", "/__control/bids",
          json::array({{{"provider", kAlpha}, {"amount", "1.5"}},
                       {{"provider", kBeta}, {"amount", "0.9"}},
                       {{"provider", kGamma}, {"amount", "0.1"}}})
              .dump());
  Control("POST", "/__control/config", R"({"bidDelayPolls": 2})");
  auto target = MakeTarget();
  absl::StatusOr<ApplyResult> applied =
      target->Apply(Request(kShaA, kDigestA,
                            {{"allow_create", "true"},
                             {"providers", absl::StrCat(kAlpha, ", ", kBeta)},
                             {"deposit", "5"}}));
  ASSERT_THAT(applied, IsOk());
  EXPECT_TRUE(applied->previous_revision.empty());
  EXPECT_FALSE(applied->revision.empty());
  // Two empty bid lists before the bids arrive: two poll waits.
  EXPECT_THAT(clock_.sleeps(),
              ::testing::ElementsAre(absl::Seconds(3), absl::Seconds(3)));

  std::vector<json> creates = RequestsTo("POST", "/v1/deployments");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(
      json::parse(creates[0]["body"].get<std::string>()),
      (json{{"data", {{"sdl", Sdl(kShaA, kDigestA)}, {"deposit", 5.0}}}}));
  std::vector<json> leases = RequestsTo("POST", "/v1/leases");
  ASSERT_EQ(leases.size(), 1u);
  json lease_body = json::parse(leases[0]["body"].get<std::string>());
  EXPECT_EQ(lease_body["leases"], json::array({{{"dseq", applied->target_ref},
                                                {"gseq", 1},
                                                {"oseq", 1},
                                                {"provider", kBeta}}}));
  EXPECT_FALSE(lease_body["manifest"].get<std::string>().empty());

  RolloutStatus last =
      PollRollout(*target, Query(*applied, kShaA, kDigestA), 5);
  EXPECT_TRUE(last.done) << last.detail;
  EXPECT_THAT(last.endpoints, ::testing::ElementsAre(HasSubstr(kBeta)));
}

TEST_F(AkashConsoleTargetTest, NoAllowedBidClosesTheNewDeployment) {
  Control("POST", "/__control/bids",
          json::array({{{"provider", kGamma}, {"amount", "0.1"}}}).dump());
  auto target = MakeTarget();
  absl::StatusOr<ApplyResult> applied = target->Apply(Request(
      kShaA, kDigestA, {{"allow_create", "true"}, {"providers", kAlpha}}));
  EXPECT_THAT(applied, StatusIs(absl::StatusCode::kAborted,
                                AllOf(HasSubstr("no acceptable bid"),
                                      HasSubstr("akash1providergamma 0.1uakt"),
                                      HasSubstr("closed"))));
  json deployments = Control("GET", "/__control/deployments");
  ASSERT_EQ(deployments.size(), 1u);
  EXPECT_EQ(deployments[0]["state"], "closed");
  EXPECT_TRUE(RequestsTo("POST", "/v1/leases").empty());
}

TEST_F(AkashConsoleTargetTest, NoDseqWithoutCreationIsAPreconditionError) {
  auto target = MakeTarget();
  EXPECT_THAT(target->Apply(Request(kShaA, kDigestA, {})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("allow_create")));
  EXPECT_TRUE(RequestsTo("POST", "/v1/deployments").empty());
}

TEST_F(AkashConsoleTargetTest, ValidatesSettings) {
  auto target = MakeTarget();
  EXPECT_THAT(target->ValidateSettings({{"dseq", "12"}}), IsOk());
  EXPECT_THAT(target->ValidateSettings({{"dseq", "12a"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dseq")));
  EXPECT_THAT(target->ValidateSettings({{"dsq", "12"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown setting \"dsq\"")));
  EXPECT_THAT(
      target->ValidateSettings({{"allow_create", "true"}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("providers")));
}

TEST_F(AkashConsoleTargetTest, ConnectionRefusedIsUnavailableAfterRetries) {
  absl::StatusOr<int> port =
      registry::testing::PickFreePort();  // nobody listens
  ASSERT_THAT(port, IsOk());
  AkashConsoleOptions o;
  o.base_url = absl::StrCat("http://127.0.0.1:", *port);
  o.api_key_env = kKeyEnv;
  o.clock = &clock_;
  o.max_attempts = 3;
  auto target = AkashConsoleTarget::Create(std::move(o));
  ASSERT_THAT(target, IsOk());
  EXPECT_THAT(
      (*target)->Apply(Request(kShaB, kDigestB, {{"dseq", "1"}})),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 3 attempts")));
  EXPECT_EQ(clock_.sleeps().size(), 2u);
}

// The Console over TLS at 127.0.0.1 with a certificate that names only
// console.shapin.test (reached by IP or through a tunnel): `openssl s_server
// -WWW` serves the deployment recorded from the simulator, and with
// -servername_fatal refuses any handshake whose SNI is not that name.
TEST_F(AkashConsoleTargetTest, TlsServerNameIsUsedForSniAndTheCertificate) {
  constexpr char kConsoleName[] = "console.shapin.test";
  const std::string dseq = Seed();
  registry::HttpRequest get;
  get.url = absl::StrCat(*base_url_, "/v1/deployments/", dseq);
  get.headers = {{"x-api-key", kKey}};
  absl::StatusOr<registry::HttpResponse> recorded = control_->RoundTrip(get);
  ASSERT_THAT(recorded, IsOk());
  ASSERT_EQ(recorded->status, 200) << recorded->body;

  absl::StatusOr<registry::testing::TempDir> dir =
      registry::testing::TempDir::Create("shapin-console-tls");
  ASSERT_THAT(dir, IsOk());
  const std::filesystem::path& d = dir->path();
  ASSERT_THAT(registry::testing::MakeTestCertificates(
                  d, {absl::StrCat("DNS:", kConsoleName)}),
              IsOk());
  std::filesystem::create_directories(d / "www/v1/deployments");
  std::ofstream(d / "www/v1/deployments" / dseq) << recorded->body;
  const std::string cert = (d / "server.pem").string();
  const std::string key = (d / "server.key").string();
  absl::StatusOr<std::unique_ptr<testing::BackgroundProcess>> server =
      testing::BackgroundProcess::Start(
          {"env", "-C", (d / "www").string(), "openssl", "s_server", "-accept",
           "127.0.0.1:0", "-cert", cert, "-key", key, "-cert2", cert, "-key2",
           key, "-servername", kConsoleName, "-servername_fatal", "-WWW"});
  ASSERT_THAT(server, IsOk());
  std::string port;
  for (int i = 0; i < 10 && port.empty(); ++i) {
    absl::StatusOr<std::string> line = (*server)->ReadLine(absl::Seconds(10));
    ASSERT_THAT(line, IsOk());
    if (absl::StartsWith(*line, "ACCEPT 127.0.0.1:")) {
      port = line->substr(std::strlen("ACCEPT 127.0.0.1:"));
    }
  }
  ASSERT_FALSE(port.empty());

  auto target_with = [&](const std::string& ca_file,
                         const std::string& server_name) {
    AkashConsoleOptions o;
    o.base_url = absl::StrCat("https://127.0.0.1:", port);
    o.api_key_env = kKeyEnv;
    o.ca_file = ca_file;
    o.tls_server_name = server_name;
    o.clock = &clock_;
    auto t = AkashConsoleTarget::Create(std::move(o));
    EXPECT_THAT(t, IsOk());
    return std::move(*t);
  };
  const RolloutQuery query{.environment = "production",
                           .image = Pinned(kShaA, kDigestA),
                           .target_ref = dseq};
  const std::string ca = (d / "ca.pem").string();

  absl::StatusOr<RolloutStatus> via_tls =
      target_with(ca, kConsoleName)->CheckRollout(query);
  ASSERT_THAT(via_tls, IsOk());
  absl::StatusOr<RolloutStatus> direct = MakeTarget()->CheckRollout(query);
  ASSERT_THAT(direct, IsOk());
  EXPECT_FALSE(via_tls->revision.empty());
  EXPECT_EQ(via_tls->revision, direct->revision);

  // Without the name the certificate does not match 127.0.0.1; another name
  // is refused by the server's SNI check (so the name is what goes out as
  // SNI); the test CA is not in the system bundle. None of these is retried.
  EXPECT_THAT(target_with(ca, "")->CheckRollout(query),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("TARGET_FAILURE"),
                             HasSubstr("does not match host 127.0.0.1"),
                             HasSubstr("tls_server_name"))));
  EXPECT_THAT(target_with(ca, "other.shapin.test")->CheckRollout(query),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("tls handshake failed for server name "
                                 "other.shapin.test")));
  EXPECT_THAT(target_with("", kConsoleName)->CheckRollout(query),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("tls certificate verification failed"),
                             HasSubstr(kConsoleName))));
  EXPECT_TRUE(clock_.sleeps().empty());

  AkashConsoleOptions plain;
  plain.base_url = *base_url_;
  plain.api_key_env = kKeyEnv;
  plain.tls_server_name = kConsoleName;
  EXPECT_THAT(AkashConsoleTarget::Create(std::move(plain)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs an https base_url")));
}

}  // namespace
}  // namespace shapin::deploy

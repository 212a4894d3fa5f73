// The deploy pipeline end to end: real PostgreSQL, a real docker-registry
// holding images pushed by the test, and the Akash Console API simulator
// (tests/fakes/akash-console) behind the real AkashConsoleTarget.
#include "deploy-svc/deploy_pipeline.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_code.h"
#include "common/registry/curl_transport.h"
#include "common/registry/testing/fake_clock.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/registry/testing/registry_server.h"
#include "common/schema_migrations.h"
#include "common/signature/signer.h"
#include "common/tag_lookup.h"
#include "deploy-svc/adapters/akash_console_target.h"
#include "deploy-svc/adapters/cosign_verifier.h"
#include "deploy-svc/adapters/curl_http_probe.h"
#include "deploy-svc/adapters/postgres_deployment_store.h"
#include "deploy-svc/adapters/registry_image_resolver.h"
#include "deploy-svc/coalescing_image_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"
#include "prometheus/text_serializer.h"
#include "tests/fakes/background_process.h"
#include "tests/support/postgres_server.h"

namespace shapin::deploy {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyEnv[] = "SHAPIN_TEST_DEPLOY_CONSOLE_KEY";
constexpr char kKey[] = "console-key-for-pipeline-test";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class DeployPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv(kKeyEnv, kKey, 1);
    pg_ = shapin::testing::PostgresServer::StartOrDie().release();
    auto reg = registry::testing::RegistryServer::Start();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = reg->release();
    auto fake = testing::BackgroundProcess::Start(
        {"node", SHAPIN_SOURCE_DIR "/tests/fakes/akash-console/server.js",
         "--api-key", kKey});
    ASSERT_TRUE(fake.ok()) << fake.status();
    absl::StatusOr<std::string> port = (*fake)->ReadLine(absl::Seconds(15));
    ASSERT_TRUE(port.ok()) << port.status();
    console_url_ = new std::string(absl::StrCat("http://127.0.0.1:", *port));
    console_ = fake->release();
  }
  static void TearDownTestSuite() {
    delete console_;
    delete console_url_;
    delete registry_;
    delete pg_;
  }

  void SetUp() override {
    const std::string name = absl::AsciiStrToLower(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    absl::StatusOr<std::string> url = pg_->CreateDatabase(name);
    ASSERT_TRUE(url.ok()) << url.status();
    auto pool = PostgresPool::Connect({.url = *url, .size = 8});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(pool).value();
    ASSERT_TRUE(ApplyMigrations(*pool_).ok());
    store_ = std::make_unique<PostgresDeploymentStore>(*pool_);
    canonical_ = absl::StrCat(registry_->host(), "/", name, "/app");

    registry::RegistryClientOptions writer_options;
    auto writer = registry::RegistryClient::Create(writer_options);
    ASSERT_TRUE(writer.ok());
    writer_ = std::move(writer).value();
    registry::RegistryClientOptions reader_options;
    reader_options.read_only = true;
    auto reader = registry::RegistryClient::Create(reader_options);
    ASSERT_TRUE(reader.ok());
    reader_ = std::move(reader).value();
    resolver_ = std::make_unique<RegistryImageResolver>(*reader_);

    auto curl = registry::CurlTransport::Create({});
    ASSERT_TRUE(curl.ok());
    control_ = std::move(*curl);
    Control("POST", "/__control/reset");

    AkashConsoleOptions console;
    console.base_url = *console_url_;
    console.api_key_env = kKeyEnv;
    console.clock = &clock_;
    auto target = AkashConsoleTarget::Create(std::move(console));
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = std::move(target).value();

    metrics_registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<DeployMetrics>(*metrics_registry_);
  }

  // Builds the pipeline for one "production" environment on the console
  // deployment `dseq`.
  void MakePipeline(const std::string& dseq,
                    absl::Duration rollout_timeout = absl::Seconds(10),
                    SignatureVerifier* verifier = nullptr,
                    absl::Duration lock_wait = absl::ZeroDuration(),
                    ImageResolver* resolver = nullptr) {
    Environment env;
    env.config.target = "akash-console";
    env.config.service = "api";
    env.config.rollout_timeout = rollout_timeout;
    env.config.settings = {{"dseq", dseq}};
    env.template_yaml =
        ReadFile(SHAPIN_SOURCE_DIR "/deploy/akash/pay2slay-api.sdl.yaml");
    env.target = target_.get();
    std::map<std::string, Environment> envs;
    envs.emplace("production", std::move(env));
    pipeline_ = std::make_unique<DeployPipeline>(
        *store_, resolver ? *resolver : *resolver_,
        verifier ? *verifier : verifier_, probe_, *metrics_, std::move(envs),
        DeployPipelineOptions{.canonical_repository = canonical_,
                              .poll_interval = absl::Milliseconds(20),
                              .lock_wait = lock_wait});
  }

  json Control(const std::string& method, const std::string& path,
               const std::string& body = "") {
    registry::HttpRequest req;
    req.method = method;
    req.url = *console_url_ + path;
    req.body = body;
    if (!body.empty()) req.headers = {{"Content-Type", "application/json"}};
    absl::StatusOr<registry::HttpResponse> resp = control_->RoundTrip(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok() || resp->body.empty()) return json();
    return json::parse(resp->body, nullptr, false);
  }

  // An image pushed to `repository` under the SHA tag, as build-svc would
  // publish it; returns its digest.
  Digest Publish(const std::string& repository, const std::string& sha,
                 uint64_t seed) {
    absl::StatusOr<Digest> d = registry::testing::PushRandomImage(
        *writer_, *ImageRef::Parse(repository), {sha}, seed,
        absl::StrCat("/tmp/shapin-deploy-test-", getpid(), "-", seed));
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : *Digest::Parse("sha256:" + std::string(64, '0'));
  }

  // The images row build-svc writes after publishing.
  void Record(const std::string& repository, const std::string& type,
              const std::string& sha, const Digest& digest) {
    ASSERT_TRUE(pool_
                    ->Run([&](pqxx::connection& c) {
                      pqxx::work tx(c);
                      tx.exec_params(
                          "INSERT INTO images (repository, repository_type,"
                          " git_sha, digest, branch, commit_time) VALUES"
                          " ($1, $2, $3, $4, 'main', now() - interval '1h')",
                          repository, type, sha, digest.str());
                      tx.commit();
                      return absl::OkStatus();
                    })
                    .ok());
  }

  // A published and recorded canonical image.
  Digest Canonical(const std::string& sha, uint64_t seed) {
    Digest d = Publish(canonical_, sha, seed);
    Record(canonical_, "canonical", sha, d);
    return d;
  }

  std::string Seed() {
    json seeded =
        Control("POST", "/__control/seed",
                json{{"sdl", ReadFile(SHAPIN_SOURCE_DIR
                                      "/deploy/akash/pay2slay-api.sdl.yaml")}}
                    .dump());
    return seeded["dseq"].get<std::string>();
  }

  int CountPuts() {
    json requests = Control("GET", "/__control/requests");
    int puts = 0;
    for (const json& r : requests) {
      if (r.value("method", "") == "PUT") ++puts;
    }
    return puts;
  }

  absl::StatusOr<DeploymentRecord> Deploy(const std::string& sha,
                                          bool dry_run = false) {
    DeployArgs args(*GitSha::Parse(sha));
    args.environment = "production";
    args.requested_by = "ci";
    args.dry_run = dry_run;
    return pipeline_->Deploy(args);
  }

  std::string Metrics() {
    return prometheus::TextSerializer().Serialize(metrics_registry_->Collect());
  }

  static shapin::testing::PostgresServer* pg_;
  static registry::testing::RegistryServer* registry_;
  static testing::BackgroundProcess* console_;
  static std::string* console_url_;

  std::unique_ptr<PostgresPool> pool_;
  std::unique_ptr<PostgresDeploymentStore> store_;
  std::unique_ptr<registry::RegistryClient> writer_, reader_;
  std::unique_ptr<RegistryImageResolver> resolver_;
  std::unique_ptr<registry::HttpTransport> control_;
  registry::testing::FakeClock clock_;
  std::unique_ptr<AkashConsoleTarget> target_;
  NotConfiguredVerifier verifier_;
  CurlHttpProbe probe_;
  std::shared_ptr<prometheus::Registry> metrics_registry_;
  std::unique_ptr<DeployMetrics> metrics_;
  std::unique_ptr<DeployPipeline> pipeline_;
  std::string canonical_;
};
shapin::testing::PostgresServer* DeployPipelineTest::pg_ = nullptr;
registry::testing::RegistryServer* DeployPipelineTest::registry_ = nullptr;
testing::BackgroundProcess* DeployPipelineTest::console_ = nullptr;
std::string* DeployPipelineTest::console_url_ = nullptr;

const std::string kA(40, 'a');
const std::string kB(40, 'b');

TEST_F(DeployPipelineTest, DeployADeployBRollbackAHoldsTheEnvironment) {
  const Digest a = Canonical(kA, 1);
  const Digest b = Canonical(kB, 2);
  MakePipeline(Seed());

  absl::StatusOr<DeploymentRecord> first = Deploy(kA);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state, DeploymentState::kSucceeded);
  EXPECT_EQ(first->image_ref, absl::StrCat(canonical_, ":", kA, "@", a.str()));
  EXPECT_THAT(first->rendered_manifest,
              HasSubstr(absl::StrCat(canonical_, ":", kA, "@", a.str())));
  EXPECT_THAT(first->rendered_manifest, Not(HasSubstr(":latest")));
  EXPECT_EQ(first->signature_status, "unverified");
  EXPECT_EQ(first->signature_reason, "not_configured");
  EXPECT_FALSE(first->target_ref.empty());

  absl::StatusOr<DeploymentRecord> second = Deploy(kB);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->previous_sha, kA);
  EXPECT_EQ(second->previous_digest, a.str());

  absl::StatusOr<DeploymentRecord> rollback =
      pipeline_->Rollback("production", std::nullopt, "B is broken", "ops");
  ASSERT_TRUE(rollback.ok()) << rollback.status();
  EXPECT_EQ(rollback->kind, DeploymentKind::kRollback);
  EXPECT_EQ(rollback->image_sha.str(), kA);
  EXPECT_EQ(rollback->previous_sha, kB);
  EXPECT_EQ(rollback->reason, "B is broken");
  EXPECT_EQ(store_->GetCurrent("production")->image_sha.str(), kA);

  // Held: CI's next Deploy of B cannot undo the rollback…
  absl::StatusOr<DeploymentRecord> blocked = Deploy(kB);
  EXPECT_EQ(ErrorCodeOf(blocked.status()), ErrorCode::kOnHold);
  auto history = store_->ListDeployments("production", {});
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->items.front().state, DeploymentState::kFailed);
  EXPECT_EQ(history->items.front().error_code, "ON_HOLD");
  // …until the hold is released.
  ASSERT_TRUE(pipeline_->ReleaseHold("production", "ops").ok());
  absl::StatusOr<DeploymentRecord> again = Deploy(kB);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(store_->GetCurrent("production")->image_sha.str(), kB);
  EXPECT_THAT(Metrics(), HasSubstr("shapin_rollback_total{environment="
                                   "\"production\",result=\"succeeded\"} 1"));
  // One restore: B (live since its deployment started) was rolled back.
  EXPECT_THAT(Metrics(), HasSubstr("shapin_time_to_restore_seconds_count{"
                                   "environment=\"production\"} 1"));
  EXPECT_THAT(Metrics(),
              HasSubstr(absl::StrCat(
                  "shapin_deployed_image_info{digest=\"", b.str(),
                  "\",environment=\"production\",git_sha=\"", kB, "\"} 1")));
}

TEST_F(DeployPipelineTest, SignedDeploymentsRatioCoversRecentShas) {
  const Digest a = Canonical(kA, 11);
  Canonical(kB, 12);
  auto key = signature::PrivateKey::GenerateP256();
  ASSERT_TRUE(key.ok()) << key.status();
  signature::RegistrySignatureStore signatures(writer_.get());
  auto sig = signature::Signer(*key).SignImage(canonical_, a);
  ASSERT_TRUE(sig.ok()) << sig.status();
  ASSERT_TRUE(
      signatures.PublishSignature(*ImageRef::Parse(canonical_), a, *sig).ok());
  signature::TrustConfig trust;
  trust.public_keys_pem = {key->public_key().ToPem()};
  auto material = signature::TrustMaterial::Create(trust);
  ASSERT_TRUE(material.ok()) << material.status();
  CosignVerifier cosign(*reader_, signature::Verifier(std::move(*material)));
  MakePipeline(Seed(), absl::Seconds(10), &cosign);

  absl::StatusOr<DeploymentRecord> first = Deploy(kA);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->signature_status, "verified");
  EXPECT_THAT(Metrics(), HasSubstr("shapin_signed_deployments_ratio{"
                                   "environment=\"production\"} 1\n"));
  absl::StatusOr<DeploymentRecord> second = Deploy(kB);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->signature_status, "unverified");
  EXPECT_THAT(Metrics(), HasSubstr("shapin_signed_deployments_ratio{"
                                   "environment=\"production\"} 0.5\n"));

  // A restarted deploy-svc: no series until refreshed from the history.
  metrics_registry_ = std::make_shared<prometheus::Registry>();
  metrics_ = std::make_unique<DeployMetrics>(*metrics_registry_);
  MakePipeline(Seed(), absl::Seconds(10), &cosign);
  EXPECT_THAT(Metrics(), Not(HasSubstr("shapin_signed_deployments_ratio{")));
  pipeline_->RefreshSignatureCoverage("production");
  EXPECT_THAT(Metrics(), HasSubstr("shapin_signed_deployments_ratio{"
                                   "environment=\"production\"} 0.5\n"));
}

TEST_F(DeployPipelineTest, MissingTagFailsFastAndAppliesNothing) {
  MakePipeline(Seed());
  absl::StatusOr<DeploymentRecord> d = Deploy(kA);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorCodeOf(d.status()), ErrorCode::kMissingTag);
  EXPECT_EQ(CountPuts(), 0);
  auto history = store_->ListDeployments("production", {});
  ASSERT_EQ(history->items.size(), 1u);
  EXPECT_EQ(history->items[0].error_code, "MISSING_TAG");
}

TEST_F(DeployPipelineTest, StagingOnlyShaIsAPolicyViolation) {
  const std::string staging = absl::StrCat(canonical_, "-staging");
  Record(staging, "staging", kA, Publish(staging, kA, 3));
  MakePipeline(Seed());
  absl::StatusOr<DeploymentRecord> d = Deploy(kA);
  EXPECT_EQ(ErrorCodeOf(d.status()), ErrorCode::kPolicyViolation);
  EXPECT_THAT(std::string(d.status().message()),
              HasSubstr("non-protected branch"));
  EXPECT_EQ(CountPuts(), 0);
}

TEST_F(DeployPipelineTest, TamperedTagIsDigestMismatchAndNothingApplied) {
  const Digest recorded = Canonical(kA, 4);
  // Out of band: the SHA tag now points at other content.
  const Digest other = Publish(canonical_, kA, 5);
  ASSERT_NE(recorded, other);
  MakePipeline(Seed());
  absl::StatusOr<DeploymentRecord> d = Deploy(kA);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrorCodeOf(d.status()), ErrorCode::kDigestMismatch);
  EXPECT_EQ(CountPuts(), 0);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_digest_mismatch_total{phase=\"deploy\"} 1"));
}

TEST_F(DeployPipelineTest, ConsoleErrorsAreRetriedThenSucceed) {
  Canonical(kA, 6);
  MakePipeline(Seed());
  Control("POST", "/__control/fail-next?status=500&count=2&method=PUT");
  absl::StatusOr<DeploymentRecord> d = Deploy(kA);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->state, DeploymentState::kSucceeded);
}

TEST_F(DeployPipelineTest, UnchangedHashIsRolloutFailure) {
  Canonical(kA, 7);
  MakePipeline(Seed(), /*rollout_timeout=*/absl::Seconds(2));
  Control("POST", "/__control/freeze-hash");
  absl::StatusOr<DeploymentRecord> d = Deploy(kA);
  EXPECT_EQ(ErrorCodeOf(d.status()), ErrorCode::kRolloutFailure) << d.status();
  EXPECT_EQ(store_->GetCurrent("production").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DeployPipelineTest, DryRunRunsWhileTheEnvironmentIsLocked) {
  Canonical(kA, 8);
  MakePipeline(Seed());
  // As if another deploy-svc were mid-deployment: its lock is held. A dry
  // run applies nothing, so it goes ahead; a real deploy is turned away.
  absl::StatusOr<DeploymentRecord> dry, real;
  ASSERT_TRUE(store_
                  ->WithEnvironmentLock("production", {},
                                        [&] {
                                          dry = Deploy(kA, /*dry_run=*/true);
                                          real = Deploy(kA);
                                          return absl::OkStatus();
                                        })
                  .ok());
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_TRUE(dry->dry_run);
  EXPECT_EQ(dry->state, DeploymentState::kSucceeded);
  EXPECT_EQ(real.status().code(), absl::StatusCode::kAborted) << real.status();
}

TEST_F(DeployPipelineTest, DryRunRendersAndAppliesNothing) {
  const Digest a = Canonical(kA, 8);
  MakePipeline(Seed());
  absl::StatusOr<DeploymentRecord> d = Deploy(kA, /*dry_run=*/true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->dry_run);
  EXPECT_THAT(d->rendered_manifest, HasSubstr(a.str()));
  EXPECT_THAT(d->rendered_tfvars, ::testing::ContainsRegex(absl::StrCat(
                                      "image_digest +=  *\"", a.str(), "\"")));
  EXPECT_THAT(d->rendered_tfvars, ::testing::ContainsRegex(absl::StrCat(
                                      "image_sha +=  *\"", kA, "\"")));
  EXPECT_EQ(store_->GetDeployment(d->deployment_id)->rendered_tfvars,
            d->rendered_tfvars);
  EXPECT_EQ(CountPuts(), 0);
  EXPECT_EQ(store_->GetCurrent("production").status().code(),
            absl::StatusCode::kNotFound);
  // A preview is not a deployment: DORA frequency and the p95 ignore it.
  EXPECT_THAT(Metrics(), Not(HasSubstr("shapin_deployments_total{")));
}

// The caches on the preflight path (shared tag lookups, rendered SDL) keep
// nothing that could hide a tamper: after preflights of A, its tag is
// repointed out of band and the very next call of each kind is
// DIGEST_MISMATCH, recorded as such.
TEST_F(DeployPipelineTest, TagRepointedAfterPreflightsIsCaughtAtTheNextCall) {
  const Digest a = Canonical(kA, 10);
  CoalescingImageResolver shared(*resolver_);
  MakePipeline(Seed(), absl::Seconds(10), nullptr, absl::ZeroDuration(),
               &shared);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ResolvedImageInfo> resolved =
        pipeline_->Resolve(*GitSha::Parse(kA));
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    EXPECT_EQ(resolved->digest, a);
    absl::StatusOr<DeploymentRecord> dry = Deploy(kA, /*dry_run=*/true);
    ASSERT_TRUE(dry.ok()) << dry.status();
    EXPECT_THAT(dry->rendered_manifest, HasSubstr(a.str()));
  }
  const Digest other = Publish(canonical_, kA, 11);  // out of band
  ASSERT_NE(other, a);

  absl::StatusOr<ResolvedImageInfo> resolved =
      pipeline_->Resolve(*GitSha::Parse(kA));
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrorCodeOf(resolved.status()), ErrorCode::kDigestMismatch);
  absl::StatusOr<DeploymentRecord> dry = Deploy(kA, /*dry_run=*/true);
  EXPECT_EQ(ErrorCodeOf(dry.status()), ErrorCode::kDigestMismatch)
      << dry.status();
  absl::StatusOr<DeploymentRecord> real = Deploy(kA);
  EXPECT_EQ(ErrorCodeOf(real.status()), ErrorCode::kDigestMismatch)
      << real.status();
  EXPECT_EQ(CountPuts(), 0);
  absl::StatusOr<Page<DeploymentRecord>> history =
      store_->ListDeployments("production", {.page_size = 10});
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->items.size(), 4u);
  EXPECT_EQ(history->items[0].error_code, "DIGEST_MISMATCH");
  EXPECT_EQ(history->items[1].error_code, "DIGEST_MISMATCH");
  EXPECT_EQ(history->items[1].state, DeploymentState::kFailed);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_digest_mismatch_total{phase=\"deploy\"} 3"));
}

// Rendered manifests are remembered per pinned image and environment:
// interleaved dry runs of two SHAs each get their own digest.
TEST_F(DeployPipelineTest, RememberedManifestsStayWithTheirImage) {
  const Digest a = Canonical(kA, 12);
  const Digest b = Canonical(kB, 13);
  MakePipeline(Seed());
  for (const auto& [sha, digest, not_digest] :
       {std::tuple{kA, a, b}, std::tuple{kB, b, a}, std::tuple{kA, a, b},
        std::tuple{kB, b, a}}) {
    absl::StatusOr<DeploymentRecord> d = Deploy(sha, /*dry_run=*/true);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_THAT(
        d->rendered_manifest,
        HasSubstr(absl::StrCat(canonical_, ":", sha, "@", digest.str())));
    EXPECT_THAT(d->rendered_manifest, Not(HasSubstr(not_digest.str())));
    EXPECT_THAT(d->rendered_manifest, HasSubstr(absl::StrCat("GIT_SHA=", sha)));
  }
}

TEST_F(DeployPipelineTest, RedeployingTheCurrentShaIsANoOp) {
  Canonical(kA, 9);
  MakePipeline(Seed());
  absl::StatusOr<DeploymentRecord> first = Deploy(kA);
  ASSERT_TRUE(first.ok()) << first.status();
  const int puts = CountPuts();
  absl::StatusOr<DeploymentRecord> again = Deploy(kA);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->deployment_id, first->deployment_id);
  EXPECT_EQ(CountPuts(), puts);
}

// The no-op answers from history only while the registry agrees: the
// running SHA's tag repointed out of band is DIGEST_MISMATCH, recorded and
// escalated, and nothing is applied (it returned the current one before).
TEST_F(DeployPipelineTest, RedeployOfTheCurrentShaWithItsTagRepointedIsCaught) {
  Canonical(kA, 13);
  MakePipeline(Seed());
  absl::StatusOr<DeploymentRecord> first = Deploy(kA);
  ASSERT_TRUE(first.ok()) << first.status();
  const int puts = CountPuts();
  Publish(canonical_, kA, 14);  // out of band, over the running SHA's tag

  absl::StatusOr<DeploymentRecord> again = Deploy(kA);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kDataLoss)
      << again.status();
  EXPECT_EQ(ErrorCodeOf(again.status()), ErrorCode::kDigestMismatch);
  EXPECT_EQ(CountPuts(), puts);
  absl::StatusOr<Page<DeploymentRecord>> history =
      store_->ListDeployments("production", {.page_size = 10});
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->items.size(), 2u);
  EXPECT_EQ(history->items[0].error_code, "DIGEST_MISMATCH");
  EXPECT_EQ(store_->GetCurrent("production")->deployment_id,
            first->deployment_id);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_digest_mismatch_total{phase=\"deploy\"} 1"));
  int64_t escalations = 0;
  ASSERT_TRUE(pool_
                  ->Run([&](pqxx::connection& c) {
                    pqxx::work tx(c);
                    escalations =
                        tx.exec_params1(
                              "SELECT count(*) FROM events WHERE kind ="
                              " 'digest_mismatch' AND severity = 'error'"
                              " AND git_sha = $1",
                              kA)[0]
                            .as<int64_t>();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(escalations, 1);
}

TEST_F(DeployPipelineTest, ASecondDeployWhileOneRunsIsAbortedNamingIt) {
  Canonical(kA, 10);
  MakePipeline(Seed());  // deploy.lock_wait 0s: fail fast
  absl::Status outer = store_->WithEnvironmentLock("production", {}, [&] {
    NewDeployment running(*GitSha::Parse(kB));
    running.environment = "production";
    absl::StatusOr<DeploymentRecord> r = store_->Create(running);
    EXPECT_TRUE(r.ok());
    absl::StatusOr<DeploymentRecord> d;
    std::thread other([&] { d = Deploy(kA); });
    other.join();
    EXPECT_EQ(d.status().code(), absl::StatusCode::kAborted);
    EXPECT_THAT(std::string(d.status().message()),
                HasSubstr(absl::StrCat("deployment ", r->deployment_id, " (",
                                       kB, ") has been in progress for")));
    EXPECT_THAT(std::string(d.status().message()),
                HasSubstr("(deploy.lock_wait)"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(outer.ok()) << outer;
  // The next deploy finds the abandoned record and marks it failed.
  ASSERT_TRUE(Deploy(kA).ok());
  auto history = store_->ListDeployments("production", {});
  EXPECT_EQ(history->items.back().state, DeploymentState::kFailed);
  // The caller that gave up was recorded nowhere: abandoned one + the deploy.
  EXPECT_EQ(history->items.size(), 2u);
}

// With deploy.lock_wait a second Deploy queues behind the running one and
// starts when it ends; the wait is visible on the gauge while it lasts and
// lands in the lock-wait histogram, not in the deploy duration.
TEST_F(DeployPipelineTest, ASecondDeployWaitsForTheRunningOneThenRuns) {
  Canonical(kA, 13);
  MakePipeline(Seed(), absl::Seconds(10), nullptr, absl::Seconds(30));
  absl::Time released;
  absl::StatusOr<DeploymentRecord> d;
  std::thread other;
  absl::Status outer = store_->WithEnvironmentLock("production", {}, [&] {
    other = std::thread([&] { d = Deploy(kA); });
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (
        !absl::StrContains(
            Metrics(), "shapin_deploy_waiting{environment=\"production\"} 1") &&
        absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_THAT(
        Metrics(),
        HasSubstr("shapin_deploy_waiting{environment=\"production\"} 1"));
    absl::SleepFor(absl::Milliseconds(300));  // a wait worth measuring
    released = absl::Now();
    return absl::OkStatus();
  });
  ASSERT_TRUE(outer.ok()) << outer;
  other.join();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->state, DeploymentState::kSucceeded);
  ASSERT_TRUE(d->started_at.has_value());
  EXPECT_GE(*d->started_at, released);
  const std::string metrics = Metrics();
  EXPECT_THAT(metrics,
              HasSubstr("shapin_deploy_waiting{environment=\"production\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("shapin_deploy_lock_wait_seconds_count{"
                                 "environment=\"production\"} 1"));
  // Waited at least the 300 ms the holder kept the lock after it queued.
  EXPECT_THAT(metrics,
              Not(HasSubstr("shapin_deploy_lock_wait_seconds_bucket{"
                            "environment=\"production\",le=\"0.25\"} 1")));
}

// Waiting never outlasts the caller's own deadline: the answer is ABORTED
// naming the knob, in time for the caller to read it.
TEST_F(DeployPipelineTest, WaitingEndsBeforeTheCallersDeadline) {
  Canonical(kA, 14);
  MakePipeline(Seed(), absl::Seconds(10), nullptr, absl::Minutes(10));
  absl::Status outer = store_->WithEnvironmentLock("production", {}, [&] {
    DeployArgs args(*GitSha::Parse(kA));
    args.environment = "production";
    args.call.deadline = absl::Now() + absl::Seconds(1);
    absl::StatusOr<DeploymentRecord> d;
    std::thread other([&] { d = pipeline_->Deploy(args); });
    other.join();
    EXPECT_EQ(d.status().code(), absl::StatusCode::kAborted) << d.status();
    EXPECT_THAT(std::string(d.status().message()),
                HasSubstr("call's deadline; deploy.lock_wait is 10m"));
    EXPECT_LT(absl::Now(), args.call.deadline);
    return absl::OkStatus();
  });
  ASSERT_TRUE(outer.ok()) << outer;
  EXPECT_TRUE(store_->ListDeployments("production", {})->items.empty());
}

TEST_F(DeployPipelineTest, RollbackTargetMustBeInTheCatalog) {
  Canonical(kA, 11);
  // B is in the registry but was never recorded as a protected build.
  Publish(canonical_, kB, 12);
  MakePipeline(Seed());
  ASSERT_TRUE(Deploy(kA).ok());
  absl::StatusOr<DeploymentRecord> r =
      pipeline_->Rollback("production", *GitSha::Parse(kB), "try", "ops");
  EXPECT_EQ(ErrorCodeOf(r.status()), ErrorCode::kPolicyViolation);
  EXPECT_EQ(pipeline_->Rollback("production", std::nullopt, "", "ops")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pipeline_->Rollback("production", std::nullopt, "nothing", "ops")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition)
      << "only one deployment: nothing earlier to roll back to";
}

}  // namespace
}  // namespace shapin::deploy

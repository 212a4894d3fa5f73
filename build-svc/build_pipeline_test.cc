// The build pipeline end to end: real PostgreSQL, a real docker-registry,
// real git and real buildah, on the sample app (tests/fixtures).
#include "build-svc/build_pipeline.h"

#include <signal.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "build-svc/adapters/buildah_builder.h"
#include "build-svc/adapters/git_source_fetcher.h"
#include "build-svc/adapters/postgres_build_store.h"
#include "build-svc/adapters/registry_image_publisher.h"
#include "build-svc/adapters/registry_image_signer.h"
#include "build-svc/build_submission.h"
#include "build-svc/build_worker.h"
#include "common/error_code.h"
#include "common/registry/testing/registry_server.h"
#include "common/schema_migrations.h"
#include "common/signature/dsse.h"
#include "common/signature/in_toto.h"
#include "deploy-svc/adapters/cosign_verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "prometheus/text_serializer.h"
#include "tests/support/postgres_server.h"

namespace shapin::build {
namespace {

using registry::testing::RegistryServer;
using ::testing::HasSubstr;

// The real builder, counting its runs: proves "reused without building".
class CountingBuilder : public ImageBuilder {
 public:
  explicit CountingBuilder(ImageBuilder& inner) : inner_(inner) {}
  absl::StatusOr<BuiltImage> Build(const BuildRequest& request) override {
    ++runs;
    absl::StatusOr<BuiltImage> built = inner_.Build(request);
    if (after_build) after_build();
    return built;
  }
  std::atomic<int> runs{0};
  std::function<void()> after_build;

 private:
  ImageBuilder& inner_;
};

// The real publisher without a stream: the builder writes an OCI layout and
// the publisher pushes it (the path images published before the relay took).
class LayoutOnlyPublisher : public ImagePublisher {
 public:
  explicit LayoutOnlyPublisher(ImagePublisher& inner) : inner_(inner) {}
  absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) override {
    return inner_.ResolveTag(repository, tag);
  }
  absl::StatusOr<Digest> PushByDigest(const std::string& layout_dir,
                                      const std::string& repository) override {
    ++layout_pushes;
    return inner_.PushByDigest(layout_dir, repository);
  }
  absl::StatusOr<Digest> Tag(const std::string& repository,
                             const Digest& digest,
                             absl::string_view tag) override {
    return inner_.Tag(repository, digest, tag);
  }
  int layout_pushes = 0;

 private:
  ImagePublisher& inner_;
};

std::string RunOrDie(std::vector<std::string> argv) {
  absl::StatusOr<SubprocessResult> r = registry::testing::RunTool(argv);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return "";
  }
  return std::string(absl::StripTrailingAsciiWhitespace(r->stdout_data));
}

class BuildPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = shapin::testing::PostgresServer::StartOrDie().release();
    auto reg = RegistryServer::Start();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = reg->release();
    base_image_ = RunOrDie({SHAPIN_SOURCE_DIR "/tests/fixtures/make-base-image",
                            registry_->host()});
    repo_dir_ = new std::string(absl::StrCat(
        "/tmp/shapin-sample-", getpid(), "-", absl::ToUnixMicros(absl::Now())));
    for (absl::string_view line : absl::StrSplit(
             RunOrDie({SHAPIN_SOURCE_DIR "/tests/fixtures/make-sample-repo",
                       *repo_dir_}),
             '\n', absl::SkipEmpty())) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      commits_.push_back({parts[0], parts[1]});
    }
    ASSERT_GE(commits_.size(), 6u);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*repo_dir_, ignored);
    delete repo_dir_;
    delete registry_;
    delete pg_;
  }

  // The n-th commit of `branch` in make-sample-repo's output.
  static std::string Commit(absl::string_view branch, int n = 0) {
    for (const auto& [b, sha] : commits_) {
      if (b == branch && n-- == 0) return sha;
    }
    ADD_FAILURE() << "no commit " << n << " on " << branch;
    return "";
  }

  void SetUp() override {
    const std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string lower = absl::AsciiStrToLower(name);
    absl::StatusOr<std::string> url = pg_->CreateDatabase(lower);
    ASSERT_TRUE(url.ok()) << url.status();
    auto pool = PostgresPool::Connect({.url = *url, .size = 10});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(pool).value();
    ASSERT_TRUE(ApplyMigrations(*pool_).ok());
    store_ = std::make_unique<PostgresBuildStore>(*pool_);

    registry::RegistryClientOptions options;
    options.retry.max_attempts = 2;
    options.retry.initial_backoff = absl::Milliseconds(50);
    options.request_timeout = absl::Seconds(10);
    auto client = registry::RegistryClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
    publisher_ = std::make_unique<RegistryImagePublisher>(*client_);

    canonical_ = absl::StrCat(registry_->host(), "/", lower, "/app");
    staging_ = absl::StrCat(registry_->host(), "/", lower, "/app-staging");
    work_dir_ = absl::StrCat("/tmp/shapin-work-", lower, "-", getpid());
    metrics_registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<BuildMetrics>(*metrics_registry_);
    pipeline_ = std::make_unique<BuildPipeline>(
        *store_, fetcher_, counting_, *publisher_, *metrics_,
        PipelineOptions{.work_dir = work_dir_,
                        .timeout = absl::Minutes(5),
                        .insecure_registries = {registry_->host()},
                        .build_args = {{"BASE_IMAGE", base_image_}}});
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
  }

  int64_t Submit(const std::string& sha, const std::string& branch,
                 bool rebuild = false) {
    SubmitFields fields;
    fields.git_sha = sha;
    fields.branch = branch;
    fields.source_url = "file://" + *repo_dir_;
    fields.rebuild = rebuild;
    SubmissionPolicy policy{.tags = {.protected_branches = {"main"},
                                     .canonical_repository = canonical_,
                                     .staging_repository = staging_},
                            .allowed_source_schemes = {"file"},
                            .default_source_url = ""};
    absl::StatusOr<NewBuild> b = ParseSubmission(fields, policy);
    EXPECT_TRUE(b.ok()) << b.status();
    absl::StatusOr<BuildRecord> queued = store_->Enqueue(*b);
    EXPECT_TRUE(queued.ok()) << queued.status();
    return queued->build_id;
  }

  bool AllTerminal() {
    auto page = store_->ListBuilds({}, {.page_size = 200});
    if (!page.ok()) return false;
    for (const BuildRecord& b : page->items) {
      if (b.state == BuildState::kQueued || b.state == BuildState::kRunning) {
        return false;
      }
    }
    return true;
  }

  // Runs `workers` worker processes' worth of runners until the queue is
  // drained, with `during` called every 100 ms meanwhile.
  void RunQueue(int workers = 1, int concurrency = 1,
                std::function<void()> during = nullptr) {
    std::vector<std::unique_ptr<BuildWorker>> running;
    for (int i = 0; i < workers; ++i) {
      running.push_back(std::make_unique<BuildWorker>(
          *store_, *pipeline_, *metrics_,
          WorkerOptions{.worker_id = absl::StrCat("worker-", i),
                        .concurrency = concurrency,
                        .lease = absl::Seconds(30),
                        .poll_interval = absl::Milliseconds(100)}));
      running.back()->Start();
    }
    const absl::Time deadline = absl::Now() + absl::Minutes(4);
    while (!AllTerminal() && absl::Now() < deadline) {
      if (during) during();
      absl::SleepFor(absl::Milliseconds(100));
    }
    for (auto& w : running) w->Stop();
    ASSERT_TRUE(AllTerminal()) << "builds still running after 4 minutes";
  }

  // Submits `sha` on main with rebuild=true, runs it: the second builder run,
  // REPRODUCED with the `published` digest.
  void ExpectRebuildReproduces(const std::string& sha,
                               const Digest& published) {
    const int64_t rebuilt = Submit(sha, "main", /*rebuild=*/true);
    RunQueue();
    BuildRecord r = Get(rebuilt);
    ASSERT_EQ(r.state, BuildState::kSucceeded) << r.error_message;
    EXPECT_EQ(r.outcome, BuildOutcome::kReproduced);
    EXPECT_EQ(r.digest, published);
    EXPECT_EQ(counting_.runs.load(), 2);
  }

  BuildRecord Get(int64_t id) {
    absl::StatusOr<BuildRecord> b = store_->GetBuild(id);
    EXPECT_TRUE(b.ok()) << b.status();
    return *b;
  }

  std::optional<Digest> TagDigest(const std::string& repo,
                                  const std::string& tag) {
    absl::StatusOr<std::optional<Digest>> d = publisher_->ResolveTag(repo, tag);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : std::nullopt;
  }

  int64_t CountEvents(const std::string& kind) {
    int64_t n = 0;
    EXPECT_TRUE(pool_
                    ->Run([&](pqxx::connection& c) {
                      pqxx::read_transaction tx(c);
                      n = tx.exec_params1(
                                "SELECT count(*) FROM events WHERE kind = $1",
                                kind)[0]
                              .as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  // The pipeline again, signing with `signer`.
  void UseSigner(ImageSigner* signer) {
    pipeline_ = std::make_unique<BuildPipeline>(
        *store_, fetcher_, counting_, *publisher_, *metrics_,
        PipelineOptions{.work_dir = work_dir_,
                        .timeout = absl::Minutes(5),
                        .insecure_registries = {registry_->host()},
                        .build_args = {{"BASE_IMAGE", base_image_}},
                        .signer = signer,
                        .sbom_path = "sbom.spdx.json"});
  }

  std::unique_ptr<registry::RegistryClient> ReadOnlyClient() {
    registry::RegistryClientOptions options;
    options.read_only = true;
    options.retry.max_attempts = 1;
    auto client = registry::RegistryClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(client).value();
  }

  // The statement of the one attestation stored for canonical@`digest`.
  absl::StatusOr<signature::Statement> OnlyAttestation(const Digest& digest) {
    std::unique_ptr<registry::RegistryClient> reader = ReadOnlyClient();
    signature::RegistrySignatureStore store(reader.get());
    auto fetched = store.Fetch(*ImageRef::Parse(canonical_), digest);
    if (!fetched.ok()) return fetched.status();
    if (fetched->attestations.size() != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat(fetched->attestations.size(), " attestations, not one"));
    }
    auto envelope =
        signature::ParseDsseEnvelope(fetched->attestations[0].envelope);
    if (!envelope.ok()) return envelope.status();
    return signature::ParseStatement(envelope->payload);
  }

  // The provenance names the commit and the base image as resolved.
  void ExpectBaseImageResolved(const signature::Statement& statement) {
    const Digest base = *client_->Resolve(*ImageRef::Parse(base_image_));
    const nlohmann::json& deps =
        statement.predicate["buildDefinition"]["resolvedDependencies"];
    ASSERT_EQ(deps.size(), 2u) << deps.dump();
    EXPECT_EQ(deps[1]["digest"]["sha256"], std::string(base.hex()));
  }

  std::string Metrics() {
    return prometheus::TextSerializer().Serialize(metrics_registry_->Collect());
  }

  static shapin::testing::PostgresServer* pg_;
  static RegistryServer* registry_;
  static std::string base_image_;
  static std::string* repo_dir_;
  static std::vector<std::pair<std::string, std::string>> commits_;

  std::unique_ptr<PostgresPool> pool_;
  std::unique_ptr<PostgresBuildStore> store_;
  std::unique_ptr<registry::RegistryClient> client_;
  std::unique_ptr<RegistryImagePublisher> publisher_;
  GitSourceFetcher fetcher_;
  BuildahBuilder buildah_;
  CountingBuilder counting_{buildah_};
  std::shared_ptr<prometheus::Registry> metrics_registry_;
  std::unique_ptr<BuildMetrics> metrics_;
  std::unique_ptr<BuildPipeline> pipeline_;
  std::string canonical_, staging_, work_dir_;
};
shapin::testing::PostgresServer* BuildPipelineTest::pg_ = nullptr;
RegistryServer* BuildPipelineTest::registry_ = nullptr;
std::string BuildPipelineTest::base_image_;
std::string* BuildPipelineTest::repo_dir_ = nullptr;
std::vector<std::pair<std::string, std::string>> BuildPipelineTest::commits_;

TEST_F(BuildPipelineTest, MainCommitPublishesBothTagsInCanonicalOnly) {
  const std::string sha = Commit("main");
  const int64_t id = Submit(sha, "main");
  RunQueue();
  BuildRecord b = Get(id);
  ASSERT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
  EXPECT_EQ(b.outcome, BuildOutcome::kPublished);
  EXPECT_EQ(b.repository, canonical_);
  ASSERT_TRUE(b.digest.has_value());
  EXPECT_EQ(b.pre_push_digest, b.digest);
  EXPECT_EQ(b.post_push_digest, b.digest);
  EXPECT_EQ(b.digest_verification, "ok");
  EXPECT_EQ(TagDigest(canonical_, sha), b.digest);
  EXPECT_EQ(TagDigest(canonical_, sha.substr(0, 12)), b.digest);
  EXPECT_EQ((*store_->RecordedImage(canonical_, b.git_sha))->digest, b.digest);
  EXPECT_EQ(TagDigest(staging_, sha), std::nullopt);
  auto image = store_->GetImage(b.git_sha, RepositoryType::kCanonical);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->digest, *b.digest);
  EXPECT_EQ(b.signature_status, "unsigned") << "no signing key configured";
  EXPECT_EQ(image->signature_status, "unsigned");
  EXPECT_GT(image->size_bytes.value_or(0), 0);
  EXPECT_TRUE(image->commit_time.has_value());
  EXPECT_THAT(b.log_tail, HasSubstr("tagged"));
  auto logs = store_->LogsSince(id, 0, 1000);
  ASSERT_TRUE(logs.ok());
  EXPECT_GT(logs->size(), 3u);
  EXPECT_THAT(
      Metrics(),
      HasSubstr("shapin_image_build_total{repository_type=\"canonical\","
                "result=\"published\"} 1"));
}

TEST_F(BuildPipelineTest, FeatureBranchPublishesToStagingOnly) {
  const std::string sha = Commit("feature");
  const int64_t id = Submit(sha, "feature");
  RunQueue();
  BuildRecord b = Get(id);
  ASSERT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
  EXPECT_EQ(b.repository_type, RepositoryType::kStaging);
  EXPECT_EQ(TagDigest(staging_, sha), b.digest);
  EXPECT_EQ(TagDigest(staging_, sha.substr(0, 12)), b.digest);
  EXPECT_EQ(TagDigest(canonical_, sha), std::nullopt);
}

TEST_F(BuildPipelineTest, RebuildReproducesAndResubmitReusesWithoutBuilding) {
  const std::string sha = Commit("main", 1);
  const int64_t first = Submit(sha, "main");
  RunQueue();
  ASSERT_EQ(Get(first).state, BuildState::kSucceeded)
      << Get(first).error_message;
  const Digest published = *Get(first).digest;

  ExpectRebuildReproduces(sha, published);

  const int64_t again = Submit(sha, "main");
  RunQueue();
  BuildRecord a = Get(again);
  ASSERT_EQ(a.state, BuildState::kSucceeded) << a.error_message;
  EXPECT_EQ(a.outcome, BuildOutcome::kReused);
  EXPECT_EQ(a.digest, published);
  EXPECT_EQ(counting_.runs.load(), 2)
      << "a reused build must not run the builder";
}

// Images published before the relay went through an OCI layout; rebuilding
// one through the relay must give the same bytes, or rebuild=true would call
// every older image a mismatch.
TEST_F(BuildPipelineTest,
       LayoutPublishedImageRebuiltThroughTheRelayReproduces) {
  const std::string sha = Commit("main", 2);
  LayoutOnlyPublisher layout_only(*publisher_);
  std::unique_ptr<BuildPipeline> streamed = std::move(pipeline_);
  pipeline_ = std::make_unique<BuildPipeline>(
      *store_, fetcher_, counting_, layout_only, *metrics_,
      PipelineOptions{.work_dir = work_dir_,
                      .timeout = absl::Minutes(5),
                      .insecure_registries = {registry_->host()},
                      .build_args = {{"BASE_IMAGE", base_image_}}});
  const int64_t first = Submit(sha, "main");
  RunQueue();
  pipeline_ = std::move(streamed);
  BuildRecord f = Get(first);
  ASSERT_EQ(f.state, BuildState::kSucceeded) << f.error_message;
  ASSERT_EQ(layout_only.layout_pushes, 1);
  const Digest published = *f.digest;

  ExpectRebuildReproduces(sha, published);
}

TEST_F(BuildPipelineTest, TamperedTagIsDetectedEscalatedAndLeftAlone) {
  const std::string sha = Commit("main", 0);
  const std::string other = Commit("main", 1);
  Submit(sha, "main");
  Submit(other, "main");
  RunQueue();
  const Digest recorded =
      (*store_->RecordedImage(canonical_, *GitSha::Parse(sha)))->digest;
  const Digest foreign = *TagDigest(canonical_, other);
  ASSERT_NE(recorded, foreign);
  // Out of band: someone points the SHA tag at another image.
  auto canonical = ImageRef::Parse(canonical_);
  ASSERT_TRUE(
      client_->Copy(*canonical->with_tag(other), *canonical->with_tag(sha))
          .ok());
  ASSERT_EQ(TagDigest(canonical_, sha), foreign);

  const int64_t rebuild = Submit(sha, "main", /*rebuild=*/true);
  const int64_t resubmit = Submit(sha, "main");
  RunQueue();
  for (int64_t id : {rebuild, resubmit}) {
    SCOPED_TRACE(id);
    BuildRecord b = Get(id);
    EXPECT_EQ(b.state, BuildState::kFailed);
    EXPECT_EQ(b.error_code, "DIGEST_MISMATCH");
    EXPECT_THAT(b.error_message, HasSubstr(foreign.str()));
    EXPECT_THAT(b.error_message, HasSubstr(recorded.str()));
  }
  EXPECT_EQ(TagDigest(canonical_, sha), foreign)
      << "the tag must not be overwritten";
  EXPECT_EQ(CountEvents("digest_mismatch"), 2);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_digest_mismatch_total{phase=\"build\"} 2"));
}

TEST_F(BuildPipelineTest, AnUnrecordedTagIsVerifiedByRebuildingNotReused) {
  const std::string sha = Commit("main", 2);
  const int64_t first = Submit(sha, "main");
  RunQueue();
  ASSERT_EQ(Get(first).state, BuildState::kSucceeded);
  const Digest published = *Get(first).digest;
  // The tag stays, the record goes (as if another tool had pushed it).
  ASSERT_TRUE(pool_
                  ->Run([&](pqxx::connection& c) {
                    pqxx::work tx(c);
                    tx.exec("DELETE FROM images");
                    tx.commit();
                    return absl::OkStatus();
                  })
                  .ok());

  const int64_t again = Submit(sha, "main");
  RunQueue();
  BuildRecord b = Get(again);
  ASSERT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
  EXPECT_EQ(b.outcome, BuildOutcome::kReproduced);
  EXPECT_EQ(b.digest, published);
  EXPECT_EQ(counting_.runs.load(), 2) << "the unrecorded tag was trusted";
  EXPECT_THAT(b.log_tail, HasSubstr("not trusted"));
  auto image = store_->RecordedImage(canonical_, b.git_sha);
  ASSERT_TRUE(image.ok() && image->has_value()) << image.status();
  EXPECT_EQ((*image)->digest, published);
  EXPECT_EQ((*image)->origin, kImageBuilt);
}

TEST_F(BuildPipelineTest, NonexistentCommitFailsWithGitsReason) {
  const int64_t id = Submit(std::string(40, 'e'), "main");
  RunQueue();
  BuildRecord b = Get(id);
  EXPECT_EQ(b.state, BuildState::kFailed);
  EXPECT_EQ(b.error_code, "BUILD_FAILURE");
  EXPECT_THAT(b.error_message, HasSubstr("eeeeeeee"));
  EXPECT_EQ(counting_.runs.load(), 0);
}

TEST_F(BuildPipelineTest, BrokenDockerfileFailsWithTheBuildersError) {
  const int64_t id = Submit(Commit("broken"), "broken");
  RunQueue();
  BuildRecord b = Get(id);
  EXPECT_EQ(b.state, BuildState::kFailed);
  EXPECT_EQ(b.error_code, "BUILD_FAILURE");
  EXPECT_FALSE(b.log_tail.empty());
  EXPECT_THAT(b.error_message + b.log_tail, HasSubstr("NOT_AN_INSTRUCTION"));
  EXPECT_EQ(TagDigest(staging_, Commit("broken")), std::nullopt);
}

TEST_F(BuildPipelineTest, RegistryDownAtPublishIsPushFailureWithNoTag) {
  const std::string sha = Commit("main", 2);
  const int64_t id = Submit(sha, "main");
  counting_.after_build = [] { ASSERT_TRUE(registry_->Stop().ok()); };
  RunQueue();
  counting_.after_build = nullptr;
  ASSERT_TRUE(registry_->Restart().ok());
  BuildRecord b = Get(id);
  EXPECT_EQ(b.state, BuildState::kFailed);
  EXPECT_EQ(b.error_code, "PUSH_FAILURE") << b.error_message;
  EXPECT_EQ(TagDigest(canonical_, sha), std::nullopt);
  // A retry of the build publishes.
  const int64_t retry = Submit(sha, "main");
  RunQueue();
  EXPECT_EQ(Get(retry).state, BuildState::kSucceeded)
      << Get(retry).error_message;
  EXPECT_EQ(TagDigest(canonical_, sha), Get(retry).digest);
}

TEST_F(BuildPipelineTest, CancelDuringALongStepKillsTheBuilder) {
  const int64_t id = Submit(Commit("slow"), "slow");
  bool canceled = false;
  const absl::Time start = absl::Now();
  RunQueue(1, 1, [&] {
    if (canceled) return;
    BuildRecord b = Get(id);
    if (b.phase == "building" && absl::Now() - start > absl::Seconds(3)) {
      ASSERT_TRUE(store_->RequestCancel(id, "test").ok());
      canceled = true;
    }
  });
  BuildRecord b = Get(id);
  EXPECT_EQ(b.state, BuildState::kCanceled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(50)) << "the sleep 60 ran out";
  absl::StatusOr<SubprocessResult> ps =
      registry::testing::RunTool({"ps", "-eo", "args"});
  ASSERT_TRUE(ps.ok());
  EXPECT_THAT(ps->stdout_data, ::testing::Not(HasSubstr("sleep 60")));
}

TEST_F(BuildPipelineTest, TenSubmissionsOfOneShaOnTwoWorkersPublishOnce) {
  const std::string sha = Commit("main", 0);
  std::vector<int64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(Submit(sha, "main"));
  RunQueue(/*workers=*/2, /*concurrency=*/2);
  std::map<std::optional<BuildOutcome>, int> outcomes;
  std::set<std::string> digests;
  for (int64_t id : ids) {
    BuildRecord b = Get(id);
    EXPECT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
    ++outcomes[b.outcome];
    if (b.digest) digests.insert(b.digest->str());
  }
  EXPECT_EQ(outcomes[BuildOutcome::kPublished], 1);
  EXPECT_EQ(outcomes[BuildOutcome::kReused], 9);
  EXPECT_EQ(digests.size(), 1u);
  EXPECT_EQ(counting_.runs.load(), 1);
}

constexpr char kBuilderId[] =
    "https://github.com/mconstant/shapin/build-svc@v1";

TEST_F(BuildPipelineTest, ConfiguredKeySignsTheImageAndLeavesTagsAlone) {
  auto key = signature::PrivateKey::GenerateP256();
  ASSERT_TRUE(key.ok()) << key.status();
  RegistryImageSigner signer(*client_, *key, {.builder_id = kBuilderId});
  UseSigner(&signer);
  const std::string sha = Commit("main");
  const int64_t id = Submit(sha, "main");
  RunQueue();
  BuildRecord b = Get(id);
  ASSERT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
  ASSERT_TRUE(b.digest.has_value());
  EXPECT_EQ(b.signature_status, "signed") << b.log_tail;
  EXPECT_THAT(b.provenance_ref, ::testing::StartsWith(canonical_ + "@sha256:"));
  EXPECT_EQ(b.sbom_ref, "") << "the sample app has no sbom.spdx.json";
  auto image = store_->GetImage(b.git_sha, RepositoryType::kCanonical);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->signature_status, "signed");
  EXPECT_EQ(image->provenance_ref, b.provenance_ref);

  // Tags: the two SHA tags on the image, cosign's two beside it, no other.
  EXPECT_EQ(TagDigest(canonical_, sha), b.digest);
  EXPECT_EQ(TagDigest(canonical_, sha.substr(0, 12)), b.digest);
  const std::string fallback = b.digest->tag_fallback();
  EXPECT_THAT(
      *client_->ListTags(*ImageRef::Parse(canonical_)),
      ::testing::UnorderedElementsAre(sha, sha.substr(0, 12), fallback + ".sig",
                                      fallback + ".att"));

  // deploy-svc's verifier accepts it, provenance naming the built commit.
  std::unique_ptr<registry::RegistryClient> reader = ReadOnlyClient();
  signature::TrustConfig trust;
  trust.public_keys_pem = {key->public_key().ToPem()};
  trust.allowed_builder_ids = {kBuilderId};
  auto material = signature::TrustMaterial::Create(trust);
  ASSERT_TRUE(material.ok()) << material.status();
  deploy::CosignVerifier verifier(*reader,
                                  signature::Verifier(std::move(*material)));
  auto verdict = verifier.Verify(
      ImageRef::Parse(canonical_)->with_tag(sha)->with_digest(*b.digest),
      b.git_sha);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_TRUE(verdict->verified);
  EXPECT_EQ(verdict->reason, "verified");
  EXPECT_EQ(verdict->provenance_status, "verified");

  // The provenance records the commit and the base image buildah resolved.
  absl::StatusOr<signature::Statement> statement = OnlyAttestation(*b.digest);
  ASSERT_TRUE(statement.ok()) << statement.status();
  auto facts = signature::ExtractProvenance(*statement);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->source_commit, sha);
  ExpectBaseImageResolved(*statement);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_image_signing_total{result=\"signed\"} 1"));
}

TEST_F(BuildPipelineTest, AReusedImageLackingOurSignatureGetsItOnce) {
  // Published by a build-svc without a key (or one that died before
  // signing): recorded, not signed.
  const std::string sha = Commit("main", 0);
  const int64_t first = Submit(sha, "main");
  RunQueue();
  ASSERT_EQ(Get(first).signature_status, "unsigned");
  const Digest digest = *Get(first).digest;

  auto key = signature::PrivateKey::GenerateP256();
  ASSERT_TRUE(key.ok()) << key.status();
  RegistryImageSigner signer(*client_, *key, {.builder_id = kBuilderId});
  UseSigner(&signer);
  const int64_t reused = Submit(sha, "main");
  RunQueue();
  BuildRecord b = Get(reused);
  ASSERT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
  EXPECT_EQ(b.outcome, BuildOutcome::kReused);
  EXPECT_EQ(counting_.runs.load(), 1) << "signing needs no rebuild";
  EXPECT_EQ(b.signature_status, "signed") << b.log_tail;
  EXPECT_THAT(b.log_tail, HasSubstr("lacks this key's signature"));
  auto image = store_->GetImage(b.git_sha, RepositoryType::kCanonical);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->signature_status, "signed");
  EXPECT_EQ(image->provenance_ref, b.provenance_ref);
  EXPECT_EQ(image->build_id, first) << "the publishing build stays recorded";

  // The provenance is the publishing build's: its base image is attested
  // though this attempt built nothing.
  absl::StatusOr<signature::Statement> statement = OnlyAttestation(digest);
  ASSERT_TRUE(statement.ok()) << statement.status();
  ExpectBaseImageResolved(*statement);
  std::unique_ptr<registry::RegistryClient> reader = ReadOnlyClient();
  signature::RegistrySignatureStore store(reader.get());
  auto fetched = store.Fetch(*ImageRef::Parse(canonical_), digest);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->signatures.size(), 1u);

  // Signed now: the next reuse finds the signature and adds nothing.
  const int64_t again = Submit(sha, "main");
  RunQueue();
  EXPECT_EQ(Get(again).signature_status, "signed");
  EXPECT_THAT(Get(again).log_tail, HasSubstr("is signed and attested"));
  fetched = store.Fetch(*ImageRef::Parse(canonical_), digest);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->signatures.size(), 1u);
  EXPECT_EQ(fetched->attestations.size(), 1u);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_image_signing_total{result=\"signed\"} 1"));
}

TEST_F(BuildPipelineTest, SigningFailureAfterPublishingIsRecordedNotHidden) {
  auto key = signature::PrivateKey::GenerateP256();
  ASSERT_TRUE(key.ok()) << key.status();
  // A signer that cannot write: the registry refuses every signature.
  std::unique_ptr<registry::RegistryClient> reader = ReadOnlyClient();
  RegistryImageSigner signer(*reader, *key, {.builder_id = kBuilderId});
  UseSigner(&signer);
  const std::string sha = Commit("main", 1);
  const int64_t id = Submit(sha, "main");
  RunQueue();
  BuildRecord b = Get(id);
  // Published and tagged: the build succeeded, its signing did not.
  ASSERT_EQ(b.state, BuildState::kSucceeded) << b.error_message;
  EXPECT_EQ(b.outcome, BuildOutcome::kPublished);
  EXPECT_EQ(TagDigest(canonical_, sha), b.digest);
  EXPECT_EQ(b.signature_status, "failed");
  EXPECT_EQ(b.provenance_ref, "");
  EXPECT_THAT(b.log_tail, HasSubstr("signing "));
  auto image = store_->GetImage(b.git_sha, RepositoryType::kCanonical);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->signature_status, "failed");
  EXPECT_EQ(CountEvents("signing_failed"), 1);
  EXPECT_THAT(Metrics(),
              HasSubstr("shapin_image_signing_total{result=\"failed\"} 1"));
}

}  // namespace
}  // namespace shapin::build

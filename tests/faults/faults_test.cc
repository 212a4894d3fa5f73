// Reliability under real faults: the real build-svc and deploy-svc binaries
// against a real PostgreSQL, docker-registry, buildah and podman, broken on
// purpose — SIGKILL mid-build and mid-deploy, the registry stopped before a
// push, PostgreSQL restarted under load and in the middle of a publication,
// concurrent builds and deploys across two processes, a tag overwritten out
// of band. A gate in front of the registry (registry_gate.h) holds a
// publication at an exact request while a fault is injected. Each test
// checks the database rows, the registry's tags and the processes left
// afterwards.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/image_ref.h"
#include "common/registry/registry_client.h"
#include "common/registry/testing/oci_layout_builder.h"
#include "common/signature/crypto.h"
#include "common/signature/signature_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "shapin/v1/build.grpc.pb.h"
#include "shapin/v1/deploy.grpc.pb.h"
#include "tests/faults/fault_stack.h"
#include "tests/faults/registry_gate.h"
#include "tests/faults/service_process.h"

namespace shapin::faults {
namespace {

namespace fs = std::filesystem;
using registry::testing::RegistryServer;
using ::testing::HasSubstr;

// Polls `ready` every 50 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& ready, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (ready()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return ready();
}

// The value of the Prometheus sample `series` (name and labels exactly as
// exposed) in `text`; 0 when absent.
double SampleValue(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(prefix.size()), &value)) return value;
  }
  return 0;
}

std::string ReadCommandLine(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"), std::ios::binary);
  std::string args((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  for (char& c : args) {
    if (c == '\0') c = ' ';
  }
  return args;
}

bool Alive(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] != 'Z';
}

// Entries of a directory, by name.
std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

// Threads of process `pid` (/proc/<pid>/status).
int ThreadCount(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(in, line);) {
    int n = 0;
    if (absl::StartsWith(line, "Threads:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(8)), &n)) {
      return n;
    }
  }
  return -1;
}

class FaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = FaultStack::StartOrDie().release(); }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    absl::StatusOr<TestSpace> space = stack_->NewSpace(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(space.ok()) << space.status();
    space_ = *std::move(space);
    registry::RegistryClientOptions options;
    options.retry.max_attempts = 2;
    options.retry.initial_backoff = absl::Milliseconds(50);
    options.request_timeout = absl::Seconds(10);
    auto client = registry::RegistryClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    registry_client_ = std::move(client).value();
  }

  void TearDown() override {
    for (auto& [name, svc] : services_) {
      if (HasFailure()) {
        std::cerr << "--- " << name << " log ---\n" << svc->LogTail(60) << "\n";
      }
    }
    services_.clear();
    gate_.reset();
    // Processes a failed recovery would leave behind are still ours.
    for (pid_t pid : ProcessesUsing(space_.dir)) kill(pid, SIGKILL);
    // One name per call: podman stops at the first missing one.
    for (const std::string& name : containers_) {
      for (const std::string& c : {name, name + "-next"}) {
        (void)registry::testing::RunTool({"podman", "rm", "-f", "-t", "0", c});
      }
    }
  }

  // --- services --------------------------------------------------------------
  ServiceProcess& StartBuildSvc(const std::string& name,
                                BuildServiceSettings settings = {}) {
    std::string address;
    const std::string config = space_.WriteBuildConfig(settings, &address);
    return Start(name, SHAPIN_BUILD_SVC_BINARY, config, address);
  }

  ServiceProcess& StartDeploySvc(
      const std::string& name,
      const std::vector<DeployEnvironmentSettings>& environments) {
    std::string address;
    const std::string config =
        space_.WriteDeployConfig(environments, &address, &metrics_address_);
    return Start(name, SHAPIN_DEPLOY_SVC_BINARY, config, address);
  }

  ServiceProcess& Start(const std::string& name, const std::string& binary,
                        const std::string& config, const std::string& address) {
    services_.erase(name);
    absl::StatusOr<std::unique_ptr<ServiceProcess>> svc =
        ServiceProcess::Start({.binary = binary,
                               .config_path = config,
                               .log_path = space_.LogPath(name),
                               .grpc_address = address});
    if (!svc.ok()) {
      ADD_FAILURE() << svc.status();
      std::abort();
    }
    ServiceProcess& ref = **svc;
    services_[name] = std::move(svc).value();
    return ref;
  }

  // --- calls -----------------------------------------------------------------
  static grpc::Status Submit(ServiceProcess& svc, const std::string& sha,
                             const std::string& branch, bool wait,
                             v1::Build* build) {
    auto stub = v1::BuildService::NewStub(svc.channel());
    grpc::ClientContext ctx;
    Authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::minutes(3));
    v1::SubmitBuildRequest request;
    request.set_git_sha(sha);
    request.set_branch(branch);
    request.set_source_url(stack_->source_url());
    request.set_wait(wait);
    return stub->SubmitBuild(&ctx, request, build);
  }

  // Builds `sha` of main through `svc` and returns the digest.
  std::string BuildMain(ServiceProcess& svc, const std::string& sha) {
    v1::Build build;
    grpc::Status s = Submit(svc, sha, "main", /*wait=*/true, &build);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(build.state(), v1::BUILD_STATE_SUCCEEDED)
        << build.error_message();
    if (build.digest().empty()) {
      ADD_FAILURE() << "no image for " << sha;
      std::abort();  // every later step needs it
    }
    return build.digest();
  }

  static grpc::Status Deploy(ServiceProcess& svc, const std::string& env,
                             const std::string& sha, v1::Deployment* out,
                             bool dry_run = false) {
    auto stub = v1::DeployService::NewStub(svc.channel());
    grpc::ClientContext ctx;
    Authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::minutes(3));
    v1::DeployRequest request;
    request.set_environment(env);
    request.set_image_sha(sha);
    request.set_dry_run(dry_run);
    return stub->Deploy(&ctx, request, out);
  }

  // --- database and registry -------------------------------------------------
  Rows Sql(const std::string& sql) {
    absl::StatusOr<Rows> rows = Query(space_.database_url, sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : Rows{};
  }
  std::string Value(const std::string& sql) {
    Rows rows = Sql(sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }

  // The digest `repository:tag` points at, or "" when there is no such tag.
  std::string TagDigest(const std::string& repository, const std::string& tag) {
    absl::StatusOr<Digest> d = registry_client_->Resolve(
        *ImageRef::Parse(absl::StrCat(repository, ":", tag)));
    if (absl::IsNotFound(d.status())) return "";
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->str() : "";
  }

  // The manifest `digest` and every blob it names are in `repository`.
  void ExpectCompleteImage(const std::string& repository,
                           const std::string& digest) {
    absl::StatusOr<registry::Manifest> m = registry_client_->GetManifest(
        *ImageRef::Parse(absl::StrCat(repository, "@", digest)));
    ASSERT_TRUE(m.ok()) << m.status();
    nlohmann::json json = nlohmann::json::parse(m->bytes);
    std::vector<std::string> blobs = {
        json["config"]["digest"].get<std::string>()};
    for (const auto& layer : json["layers"]) {
      blobs.push_back(layer["digest"].get<std::string>());
    }
    for (const std::string& blob : blobs) {
      absl::StatusOr<bool> exists = registry_client_->BlobExists(
          *ImageRef::Parse(repository), *Digest::Parse(blob));
      ASSERT_TRUE(exists.ok()) << exists.status();
      EXPECT_TRUE(*exists) << repository << " lacks blob " << blob;
    }
  }

  // Pushes a one-layer image of random content (`seed`) under canonical:`tag`
  // behind the services' back; its digest, or "" (and a failure).
  std::string PushOutOfBand(const std::string& tag, uint64_t seed) {
    absl::StatusOr<Digest> d = registry::testing::PushRandomImage(
        *registry_client_, *ImageRef::Parse(space_.canonical_repository), {tag},
        seed, fs::path(space_.dir) / absl::StrCat("oob-", seed));
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->str() : "";
  }

  // From now on the space's repositories are reached through a gate in
  // front of the registry (the test's own reads too).
  RegistryGate& UseGate() {
    absl::StatusOr<std::unique_ptr<RegistryGate>> gate =
        RegistryGate::Start(stack_->registry().port());
    if (!gate.ok()) {
      ADD_FAILURE() << gate.status();
      std::abort();
    }
    gate_ = std::move(gate).value();
    space_.canonical_repository =
        absl::StrCat(gate_->host(), "/", space_.name, "/app");
    space_.staging_repository =
        absl::StrCat(gate_->host(), "/", space_.name, "/app-staging");
    return *gate_;
  }

  // A fresh unencrypted P-256 key (build.signing.key_file) in the space.
  std::string NewSigningKey() {
    absl::StatusOr<signature::PrivateKey> key =
        signature::PrivateKey::GenerateP256();
    if (!key.ok()) {
      ADD_FAILURE() << key.status();
      std::abort();
    }
    const std::string path = absl::StrCat(space_.dir, "/cosign.key");
    absl::StatusOr<std::string> pem = key->ToPem();
    EXPECT_TRUE(pem.ok()) << pem.status();
    std::ofstream(path) << pem.value_or("");
    signing_key_ = *std::move(key);
    return path;
  }

  // What deploy-svc would conclude about repository@digest, trusting only
  // the key of NewSigningKey() and build-svc's default builder id.
  signature::VerificationResult VerifySignature(const std::string& digest) {
    signature::TrustConfig trust;
    trust.public_keys_pem = {signing_key_->public_key().ToPem()};
    trust.allowed_builder_ids = {
        "https://github.com/mconstant/shapin/build-svc@v1"};
    absl::StatusOr<signature::TrustMaterial> material =
        signature::TrustMaterial::Create(trust);
    EXPECT_TRUE(material.ok()) << material.status();
    signature::Verifier verifier(*std::move(material));
    signature::RegistrySignatureStore store(registry_client_.get());
    absl::StatusOr<signature::VerificationResult> result =
        signature::VerifyImageInRegistry(
            store, verifier, *ImageRef::Parse(space_.canonical_repository),
            *Digest::Parse(digest), std::nullopt);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : signature::VerificationResult{};
  }

  // Waits until no build of the space is queued or running.
  bool BuildsSettle(absl::Duration timeout) {
    return WaitFor(
        [&] {
          absl::StatusOr<Rows> r =
              Query(space_.database_url,
                    "SELECT count(*) FROM builds WHERE state IN ('queued', "
                    "'running')");
          return r.ok() && !r->empty() && (*r)[0][0] == "0";
        },
        timeout);
  }

  std::string NewContainerName() {
    static int counter = 0;  // unique across the tests of one process
    std::string name = absl::StrCat("shapin-faults-", getpid(), "-", ++counter);
    containers_.push_back(name);
    return name;
  }

  static FaultStack* stack_;
  TestSpace space_;
  std::unique_ptr<registry::RegistryClient> registry_client_;
  std::map<std::string, std::unique_ptr<ServiceProcess>> services_;
  std::vector<std::string> containers_;
  std::string metrics_address_;
  std::unique_ptr<RegistryGate> gate_;
  std::optional<signature::PrivateKey> signing_key_;
};

FaultStack* FaultsTest::stack_ = nullptr;

// SIGKILL while buildah runs a step: the build must not stay RUNNING, no tag
// may appear, and the orphaned builder and its storage must go.
TEST_F(FaultsTest, BuildSvcKilledMidBuildIsRequeuedAndLeavesNothingBehind) {
  ServiceProcess& first = StartBuildSvc("build-svc");
  const std::string sha = stack_->Commit("slow");
  v1::Build build;
  ASSERT_TRUE(Submit(first, sha, "slow", /*wait=*/false, &build).ok());
  const std::string id = build.build_id();

  // Mid-build: the Dockerfile's `RUN sleep 60` is running.
  std::vector<pid_t> builders;
  ASSERT_TRUE(WaitFor(
      [&] {
        builders = ProcessesUsing(space_.work_dir);
        for (pid_t pid : builders) {
          if (absl::StrContains(ReadCommandLine(pid), "sleep 60")) return true;
        }
        return false;
      },
      absl::Seconds(90)))
      << "the build never reached its RUN step";
  const std::set<std::string> dirs_before = Entries(space_.work_dir);
  ASSERT_EQ(dirs_before.size(), 1u);  // the dead worker's directory
  first.Kill();
  // The crash is real: the builder outlives build-svc.
  absl::SleepFor(absl::Milliseconds(300));
  int orphans = 0;
  for (pid_t pid : builders) orphans += Alive(pid) ? 1 : 0;
  EXPECT_GT(orphans, 0)
      << "nothing to recover: the builder died with build-svc";
  EXPECT_EQ(
      Value(absl::StrCat("SELECT state FROM builds WHERE build_id = ", id)),
      "running");

  // Restarted well within the 30 s lease: recovery does not wait for it.
  const absl::Time restarted = absl::Now();
  ServiceProcess& second = StartBuildSvc("build-svc");
  ASSERT_TRUE(WaitFor(
      [&] {
        return Value(absl::StrCat("SELECT count(*) FROM events WHERE kind = "
                                  "'build_requeued' AND build_id = ",
                                  id)) == "1";
      },
      absl::Seconds(20)));
  EXPECT_LT(absl::Now() - restarted, absl::Seconds(25));
  for (pid_t pid : builders) {
    EXPECT_FALSE(Alive(pid)) << "orphaned builder " << pid
                             << " still runs: " << ReadCommandLine(pid);
  }
  for (const std::string& dead : dirs_before) {
    EXPECT_FALSE(fs::exists(fs::path(space_.work_dir) / dead))
        << "the dead worker's workspace and storage were left behind";
  }
  // Requeued and picked up again by the new process (attempt 2).
  ASSERT_TRUE(WaitFor(
      [&] {
        return Value(absl::StrCat("SELECT attempts FROM builds WHERE "
                                  "build_id = ",
                                  id)) == "2";
      },
      absl::Seconds(20)));
  EXPECT_EQ(TagDigest(space_.staging_repository, sha), "")
      << "a tag was published by the interrupted build";

  // Cancel the rerun rather than wait for its minute of sleep.
  {
    auto stub = v1::BuildService::NewStub(second.channel());
    grpc::ClientContext ctx;
    Authorize(ctx);
    v1::CancelBuildRequest request;
    request.set_build_id(id);
    v1::Build canceled;
    ASSERT_TRUE(stub->CancelBuild(&ctx, request, &canceled).ok());
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        return Value(absl::StrCat("SELECT state FROM builds WHERE build_id = ",
                                  id)) == "canceled";
      },
      absl::Seconds(30)));
  EXPECT_EQ(TagDigest(space_.staging_repository, sha), "");
  EXPECT_EQ(TagDigest(space_.staging_repository, sha.substr(0, 12)), "");
  EXPECT_EQ(Value("SELECT count(*) FROM images"), "0");
  // Nothing of either attempt keeps running or stays on disk, and a clean
  // stop removes the live worker's directory too.
  EXPECT_TRUE(WaitFor([&] { return ProcessesUsing(space_.work_dir).empty(); },
                      absl::Seconds(15)));
  second.Stop();
  EXPECT_THAT(Entries(space_.work_dir), ::testing::IsEmpty());
}

// The publish registry goes away while the image builds (base images come
// from another registry): PUSH_FAILURE after bounded retries, no tag; once
// the registry is back a retry publishes complete content.
TEST_F(FaultsTest, RegistryStoppedBeforePushIsPushFailureThenRetryPublishes) {
  absl::StatusOr<std::unique_ptr<RegistryServer>> publish =
      RegistryServer::Start();
  ASSERT_TRUE(publish.ok()) << publish.status();
  space_.canonical_repository =
      absl::StrCat((*publish)->host(), "/", space_.name, "/app");
  space_.staging_repository =
      absl::StrCat((*publish)->host(), "/", space_.name, "/app-staging");
  ServiceProcess& svc = StartBuildSvc("build-svc");
  const std::string sha = stack_->Commit("main", 1);
  v1::Build build;
  ASSERT_TRUE(Submit(svc, sha, "main", /*wait=*/false, &build).ok());
  const std::string id = build.build_id();
  const std::string state_sql = absl::StrCat(
      "SELECT state, phase, error_code, error_message,"
      " extract(epoch from finished_at - started_at)"
      " FROM builds WHERE build_id = ",
      id);
  ASSERT_TRUE(WaitFor([&] { return Sql(state_sql)[0][1] == "building"; },
                      absl::Seconds(60)));
  ASSERT_TRUE((*publish)->Stop().ok());

  ASSERT_TRUE(WaitFor([&] { return Sql(state_sql)[0][0] == "failed"; },
                      absl::Seconds(120)));
  Rows failed = Sql(state_sql);
  EXPECT_EQ(failed[0][2], "PUSH_FAILURE") << failed[0][3];
  EXPECT_THAT(failed[0][3], HasSubstr("PUSH_FAILURE"));
  double seconds = 0;
  ASSERT_TRUE(absl::SimpleAtod(failed[0][4], &seconds));
  EXPECT_LT(seconds, 90) << "retries are not bounded";
  EXPECT_EQ(Value("SELECT count(*) FROM images"), "0");

  ASSERT_TRUE((*publish)->Restart().ok());
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha), "");
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha.substr(0, 12)), "");

  v1::Build retry;
  ASSERT_TRUE(Submit(svc, sha, "main", /*wait=*/true, &retry).ok());
  ASSERT_EQ(retry.state(), v1::BUILD_STATE_SUCCEEDED) << retry.error_message();
  EXPECT_EQ(retry.outcome(), v1::BUILD_OUTCOME_PUBLISHED);
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha), retry.digest());
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha.substr(0, 12)),
            retry.digest());
  ExpectCompleteImage(space_.canonical_repository, retry.digest());
  EXPECT_EQ(Value("SELECT digest FROM images"), retry.digest());
  services_.clear();  // before the registry it pushes to goes away
}

// The registry is killed in the middle of a large, throttled blob upload.
// distribution 2.8 keeps the bytes it stored but refuses the session
// afterwards (its `_state` token names an older offset), so a client that
// sends the same PATCH again fails on a registry that is back. Restarted
// within the bounded retries: the push asks for the upload's offset, starts
// that blob over when the registry no longer knows the session, and
// completes with every blob intact. Left down: UNAVAILABLE after the bounded
// retries (the build's PUSH_FAILURE), no tag, no blob.
TEST_F(FaultsTest, RegistryKilledMidBlobThenRestartedPushCompletesIntact) {
  absl::StatusOr<std::unique_ptr<RegistryServer>> publish =
      RegistryServer::Start();
  ASSERT_TRUE(publish.ok()) << publish.status();
  constexpr int64_t kMiB = 1 << 20;
  const fs::path dir = fs::path(space_.dir) / "large";
  auto layout = registry::testing::OciLayoutBuilder::Create(dir);
  ASSERT_TRUE(layout.ok()) << layout.status();
  auto large = layout->AddRandomBlob(40 * kMiB + 5, 41);
  auto small = layout->AddRandomBlob(4096, 42);
  ASSERT_TRUE(large.ok() && small.ok());
  auto image = layout->AddImage({*large, *small});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(layout->WriteIndex({*image}).ok());

  registry::RegistryClientOptions options;
  options.chunk_size_bytes = 8 * kMiB;
  options.max_upload_bytes_per_second = 16 * kMiB;  // ~2.5 s for the layer
  options.retry.max_attempts = 5;
  options.retry.initial_backoff = absl::Milliseconds(200);
  auto client = registry::RegistryClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();

  // Bytes the registry holds for uploads still in progress in `repo`.
  const auto uploaded = [&](const std::string& repo) {
    int64_t bytes = 0;
    std::error_code ec;
    const fs::path uploads = (*publish)->dir() / "data" / "docker" /
                             "registry" / "v2" / "repositories" / repo /
                             "_uploads";
    for (const auto& e : fs::directory_iterator(uploads, ec)) {
      bytes += static_cast<int64_t>(fs::file_size(e.path() / "data", ec));
    }
    return bytes;
  };
  const auto push_killing_mid_blob = [&](const std::string& repo,
                                         bool restart) {
    const std::string repository = absl::StrCat((*publish)->host(), "/", repo);
    absl::StatusOr<registry::PushResult> pushed =
        absl::InternalError("not run");
    std::thread push([&] {
      pushed =
          (*client)->PushOciLayout(dir, *ImageRef::Parse(repository), {"v1"});
    });
    // Past the first chunk, inside a later one.
    EXPECT_TRUE(
        WaitFor([&] { return uploaded(repo) > 12 * kMiB; }, absl::Seconds(30)));
    EXPECT_TRUE((*publish)->Stop().ok());
    const int64_t stored = uploaded(repo);
    EXPECT_GT(stored, 12 * kMiB);
    EXPECT_LT(stored, large->size) << "killed too late to be mid-blob";
    if (restart) {
      absl::SleepFor(absl::Milliseconds(500));
      EXPECT_TRUE((*publish)->Restart().ok());
    }
    push.join();
    return pushed;
  };

  const absl::Time down_start = absl::Now();
  absl::StatusOr<registry::PushResult> failed =
      push_killing_mid_blob("down/app", /*restart=*/false);
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  EXPECT_LT(absl::Now() - down_start, absl::Seconds(60))
      << "retries are not bounded";
  ASSERT_TRUE((*publish)->Restart().ok());
  const std::string down = absl::StrCat((*publish)->host(), "/down/app");
  EXPECT_EQ(TagDigest(down, "v1"), "");
  absl::StatusOr<bool> partial =
      registry_client_->BlobExists(*ImageRef::Parse(down), large->digest);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_FALSE(*partial) << "an incomplete blob was committed";

  absl::StatusOr<registry::PushResult> pushed =
      push_killing_mid_blob("back/app", /*restart=*/true);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->digest, image->digest);
  const std::string back = absl::StrCat((*publish)->host(), "/back/app");
  EXPECT_EQ(TagDigest(back, "v1"), image->digest.str());
  // Read back whole: FetchBlob verifies digest and size as it streams.
  for (const registry::Descriptor& blob : {*large, *small}) {
    EXPECT_TRUE(registry_client_
                    ->FetchBlob(*ImageRef::Parse(back), blob.digest, blob.size,
                                fs::path(space_.dir) / "fetched")
                    .ok())
        << blob.digest.str();
  }
}

// PostgreSQL restarts under both services: calls during the outage fail
// with UNAVAILABLE and record nothing; afterwards both reconnect, the build
// that ran through the outage is recorded, and no record is lost.
TEST_F(FaultsTest, PostgresRestartIsUnavailableThenReconnectsLosingNothing) {
  ServiceProcess& build_svc = StartBuildSvc("build-svc");
  const std::string first = stack_->Commit("main", 0);
  const std::string first_digest = BuildMain(build_svc, first);
  const std::string env = "faults";
  ServiceProcess& deploy_svc = StartDeploySvc(
      "deploy-svc", {{.name = env, .container_name = NewContainerName()}});
  v1::Deployment dry;
  ASSERT_TRUE(Deploy(deploy_svc, env, first, &dry, /*dry_run=*/true).ok());

  // A build in flight, its caller waiting, when the database goes.
  const std::string second = stack_->Commit("main", 1);
  grpc::Status waited;
  v1::Build waited_build;
  std::thread waiter([&] {
    waited = Submit(build_svc, second, "main", /*wait=*/true, &waited_build);
  });
  ASSERT_TRUE(WaitFor(
      [&] {
        return Value(absl::StrCat("SELECT phase FROM builds WHERE git_sha = '",
                                  second, "'")) == "building";
      },
      absl::Seconds(60)));
  ASSERT_TRUE(stack_->postgres().Stop().ok());
  waiter.join();
  EXPECT_EQ(waited.error_code(), grpc::StatusCode::UNAVAILABLE)
      << waited.error_message();

  v1::Build rejected;
  grpc::Status submit = Submit(build_svc, stack_->Commit("main", 2), "main",
                               /*wait=*/false, &rejected);
  EXPECT_EQ(submit.error_code(), grpc::StatusCode::UNAVAILABLE)
      << submit.error_message();
  v1::Deployment not_deployed;
  grpc::Status deploy = Deploy(deploy_svc, env, first, &not_deployed,
                               /*dry_run=*/true);
  EXPECT_EQ(deploy.error_code(), grpc::StatusCode::UNAVAILABLE)
      << deploy.error_message();
  {
    auto stub = v1::DeployService::NewStub(deploy_svc.channel());
    grpc::ClientContext ctx;
    Authorize(ctx);
    v1::ListDeploymentsRequest request;
    v1::ListDeploymentsResponse response;
    EXPECT_EQ(stub->ListDeployments(&ctx, request, &response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE(stack_->postgres().Restart().ok());

  // Reconnected: the build that ran through the outage is recorded once,
  // with its image, and the calls that failed left no trace.
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Rows> r =
            Query(space_.database_url,
                  absl::StrCat("SELECT state FROM builds WHERE git_sha = '",
                               second, "'"));
        return r.ok() && !r->empty() && (*r)[0][0] != "running" &&
               (*r)[0][0] != "queued";
      },
      absl::Seconds(120)));
  Rows builds =
      Sql("SELECT git_sha, state, outcome, digest, error_code FROM builds"
          " ORDER BY build_id");
  ASSERT_EQ(builds.size(), 2u) << "a failed SubmitBuild was recorded";
  EXPECT_EQ(builds[0], (std::vector<std::string>{
                           first, "succeeded", "published", first_digest, ""}));
  // The build that ran through the outage ends whole either way: succeeded
  // with its image row and tags, or (when it reached the database while it
  // was still down) failed with a code and neither.
  const std::string image_digest = Value(
      absl::StrCat("SELECT digest FROM images WHERE git_sha = '", second, "'"));
  if (builds[1][1] == "succeeded") {
    EXPECT_EQ(image_digest, builds[1][3]);
    EXPECT_EQ(TagDigest(space_.canonical_repository, second), builds[1][3]);
  } else {
    EXPECT_EQ(builds[1][1], "failed");
    EXPECT_NE(builds[1][4], "");
    EXPECT_EQ(image_digest, "");
    EXPECT_EQ(TagDigest(space_.canonical_repository, second), "");
  }

  v1::Deployment after;
  grpc::Status redeployed =
      Deploy(deploy_svc, env, first, &after, /*dry_run=*/true);
  ASSERT_TRUE(redeployed.ok()) << redeployed.error_message();
  Rows deployments =
      Sql("SELECT deployment_id, state FROM deployments ORDER BY 1");
  ASSERT_EQ(deployments.size(), 2u) << "a failed Deploy was recorded";
  EXPECT_EQ(deployments[0][0], dry.deployment_id());
  EXPECT_EQ(deployments[1][0], after.deployment_id());
  EXPECT_EQ(deployments[0][1], "succeeded");
  EXPECT_EQ(deployments[1][1], "succeeded");
}

// SIGKILL while a deployment waits for its rollout: on restart it is FAILED
// with the reason before any new call, the environment is free again, and
// history stays consistent.
TEST_F(FaultsTest, DeploySvcKilledMidDeployIsFailedOnRestartAndUnlocked) {
  ServiceProcess& build_svc = StartBuildSvc("build-svc");
  const std::string sha = stack_->Commit("main", 0);
  BuildMain(build_svc, sha);
  const std::string env = "faults";
  const std::string container = NewContainerName();
  // The version check can never pass: the deployment hangs after applying.
  ServiceProcess& doomed = StartDeploySvc(
      "deploy-svc",
      {{.name = env,
        .container_name = container,
        .version_url = absl::StrCat("http://", FreeAddress(), "/version")}});
  grpc::Status interrupted;
  std::thread caller([&] {
    v1::Deployment d;
    interrupted = Deploy(doomed, env, sha, &d);
  });
  const std::string running_sql =
      "SELECT deployment_id FROM deployments WHERE state = 'running'"
      " AND target_ref IS NOT NULL";
  const bool applied =
      WaitFor([&] { return !Value(running_sql).empty(); }, absl::Seconds(90));
  const std::string id = Value(running_sql);
  doomed.Kill();
  caller.join();
  ASSERT_TRUE(applied) << "the deployment never reached its rollout";
  EXPECT_EQ(interrupted.error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_EQ(Value(absl::StrCat(
                "SELECT state FROM deployments WHERE deployment_id = ", id)),
            "running");

  // Restarted (version check fixed): before any call, the interrupted
  // deployment is failed with the reason, and the audit trail says so.
  ServiceProcess& restarted = StartDeploySvc(
      "deploy-svc", {{.name = env, .container_name = container}});
  Rows row = Sql(absl::StrCat(
      "SELECT state, error_code, error_message, finished_at IS NOT NULL"
      " FROM deployments WHERE deployment_id = ",
      id));
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0], "failed");
  EXPECT_EQ(row[0][1], "TARGET_FAILURE");
  EXPECT_THAT(row[0][2], HasSubstr("deploy-svc stopped"));
  EXPECT_EQ(row[0][3], "t");
  EXPECT_EQ(Value(absl::StrCat("SELECT count(*) FROM events WHERE kind = "
                               "'deployment_interrupted' AND deployment_id = ",
                               id)),
            "1");

  // The environment's lock died with the process: the next deploy runs.
  v1::Deployment next;
  grpc::Status redeployed = Deploy(restarted, env, sha, &next);
  ASSERT_TRUE(redeployed.ok()) << redeployed.error_message();
  EXPECT_EQ(next.state(), v1::DEPLOYMENT_STATE_SUCCEEDED);
  EXPECT_EQ(next.previous_sha(), "") << "a failed deployment became current";
  Rows history = Sql("SELECT state FROM deployments ORDER BY deployment_id");
  EXPECT_EQ(history, (Rows{{"failed"}, {"succeeded"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM deployments"
                  " WHERE state IN ('pending', 'running')"),
            "0");
}

// Ten submissions of one SHA through two build-svc processes sharing a work
// directory: one publication, nine reuses, one digest.
TEST_F(FaultsTest, TenConcurrentBuildsOfOneShaOnTwoProcessesPublishOnce) {
  std::vector<ServiceProcess*> processes = {
      &StartBuildSvc("build-svc-a", {.workers = 2}),
      &StartBuildSvc("build-svc-b", {.workers = 2})};
  const std::string sha = stack_->Commit("main", 2);
  std::vector<v1::Build> builds(10);
  std::vector<grpc::Status> statuses(10);
  std::vector<std::thread> callers;
  for (int i = 0; i < 10; ++i) {
    callers.emplace_back([&, i] {
      statuses[i] =
          Submit(*processes[i % 2], sha, "main", /*wait=*/true, &builds[i]);
    });
  }
  for (std::thread& t : callers) t.join();
  std::map<int, int> outcomes;
  std::set<std::string> digests;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    ASSERT_EQ(builds[i].state(), v1::BUILD_STATE_SUCCEEDED)
        << builds[i].error_message();
    ++outcomes[builds[i].outcome()];
    digests.insert(builds[i].digest());
  }
  EXPECT_EQ(outcomes[v1::BUILD_OUTCOME_PUBLISHED], 1);
  EXPECT_EQ(outcomes[v1::BUILD_OUTCOME_REUSED], 9);
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_EQ(Value("SELECT count(*) FROM builds WHERE state = 'succeeded'"),
            "10");
  EXPECT_EQ(Value("SELECT digest FROM images"), *digests.begin());
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha), *digests.begin());
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha.substr(0, 12)),
            *digests.begin());
}

// Ten deploys to one environment at once through two deploy-svc processes,
// each sent once: the service queues them (deploy.lock_wait) instead of
// refusing, so every caller succeeds without retrying, never two at a time,
// every caller answered, every deployment recorded as finished.
TEST_F(FaultsTest, TenConcurrentDeploysToOneEnvironmentAreSerialized) {
  ServiceProcess& build_svc = StartBuildSvc("build-svc");
  const std::vector<std::string> shas = {stack_->Commit("main", 0),
                                         stack_->Commit("main", 1)};
  for (const std::string& sha : shas) BuildMain(build_svc, sha);
  const std::string env = "faults";
  const std::string container = NewContainerName();
  std::vector<ServiceProcess*> processes;
  std::vector<std::string> metrics_addresses;
  for (const char* name : {"deploy-svc-a", "deploy-svc-b"}) {
    processes.push_back(
        &StartDeploySvc(name, {{.name = env, .container_name = container}}));
    metrics_addresses.push_back(metrics_address_);
  }
  std::vector<v1::Deployment> answers(10);
  std::vector<grpc::Status> statuses(10);
  std::vector<absl::Duration> took(10);
  std::vector<std::thread> callers;
  for (int i = 0; i < 10; ++i) {
    callers.emplace_back([&, i] {
      const absl::Time start = absl::Now();
      statuses[i] = Deploy(*processes[i % 2], env, shas[i % 2], &answers[i]);
      took[i] = absl::Now() - start;
    });
  }
  for (std::thread& t : callers) t.join();
  std::set<std::string> answered_ids;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(answers[i].state(), v1::DEPLOYMENT_STATE_SUCCEEDED);
    EXPECT_EQ(answers[i].image_sha(), shas[i % 2]);
    answered_ids.insert(answers[i].deployment_id());
  }
  Rows rows =
      Sql("SELECT deployment_id, state, image_sha, previous_sha,"
          " extract(epoch from started_at), extract(epoch from finished_at)"
          " FROM deployments ORDER BY deployment_id");
  // Every recorded deployment finished, was answered to a caller, and
  // followed the previous one (no overlap, previous_sha chained).
  std::set<std::string> recorded_ids;
  std::string previous_sha;
  double previous_end = 0;
  double shortest_deploy = 1e9;
  for (const std::vector<std::string>& row : rows) {
    recorded_ids.insert(row[0]);
    EXPECT_EQ(row[1], "succeeded") << "deployment " << row[0];
    EXPECT_EQ(row[3], previous_sha) << "deployment " << row[0];
    double start = 0, end = 0;
    ASSERT_TRUE(absl::SimpleAtod(row[4], &start));
    ASSERT_TRUE(absl::SimpleAtod(row[5], &end));
    EXPECT_GE(start, previous_end) << "deployment " << row[0] << " overlapped";
    shortest_deploy = std::min(shortest_deploy, end - start);
    previous_end = end;
    previous_sha = row[2];
  }
  EXPECT_EQ(recorded_ids, answered_ids);
  // The calls really overlapped: some caller spent longer than a whole
  // deployment in its call, and the services saw callers wait for the lock.
  ASSERT_FALSE(rows.empty());
  EXPECT_GT(absl::ToDoubleSeconds(*std::max_element(took.begin(), took.end())),
            shortest_deploy)
      << "no call waited for another";
  double waits = 0, quick_waits = 0;
  for (const std::string& address : metrics_addresses) {
    absl::StatusOr<SubprocessResult> metrics = registry::testing::RunTool(
        {"curl", "-sf", absl::StrCat("http://", address, "/metrics")});
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    waits += SampleValue(
        metrics->stdout_data,
        absl::StrCat("shapin_deploy_lock_wait_seconds_count{environment=\"",
                     env, "\"}"));
    quick_waits += SampleValue(
        metrics->stdout_data,
        absl::StrCat("shapin_deploy_lock_wait_seconds_bucket{environment=\"",
                     env, "\",le=\"0.25\"}"));
    EXPECT_EQ(SampleValue(metrics->stdout_data,
                          absl::StrCat("shapin_deploy_waiting{environment=\"",
                                       env, "\"}")),
              0)
        << "a caller is still counted as waiting";
  }
  EXPECT_EQ(waits, 10) << "every call took the lock once";
  EXPECT_LT(quick_waits, waits) << "no call waited for the lock";
}

// Someone pushes other content over a published SHA tag: the next deploy
// refuses it with DIGEST_MISMATCH, applies nothing and escalates it.
TEST_F(FaultsTest, OutOfBandPushOverAShaTagIsCaughtAtTheNextDeploy) {
  ServiceProcess& build_svc = StartBuildSvc("build-svc");
  const std::string sha = stack_->Commit("main", 0);
  const std::string built = BuildMain(build_svc, sha);
  const std::string tampered = PushOutOfBand(sha, 7);
  ASSERT_NE(tampered, "");
  ASSERT_NE(tampered, built);
  const std::string env = "faults";
  const std::string container = NewContainerName();
  ServiceProcess& deploy_svc = StartDeploySvc(
      "deploy-svc", {{.name = env, .container_name = container}});
  v1::Deployment d;
  grpc::Status s = Deploy(deploy_svc, env, sha, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("DIGEST_MISMATCH"));
  EXPECT_EQ(Sql("SELECT state, error_code FROM deployments"),
            (Rows{{"failed", "DIGEST_MISMATCH"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM events WHERE kind = 'digest_mismatch'"
                  " AND severity = 'error'"),
            "1");
  absl::StatusOr<SubprocessResult> metrics = registry::testing::RunTool(
      {"curl", "-sf", absl::StrCat("http://", metrics_address_, "/metrics")});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->stdout_data,
              HasSubstr("shapin_digest_mismatch_total{phase=\"deploy\"} 1"));
  absl::StatusOr<SubprocessResult> ps = registry::testing::RunTool(
      {"podman", "ps", "-a", "--format", "{{.Names}}"});
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_THAT(ps->stdout_data, ::testing::Not(HasSubstr(container)))
      << "something was applied";
}

// Someone pushes an image under a SHA tag before shapin first builds that
// commit. Nothing is recorded for it, so it is not trusted: the build
// rebuilds, gets another digest, fails DIGEST_MISMATCH (escalated) and leaves
// the tag alone; nothing is recorded as the commit's image until an operator
// adopts it.
TEST_F(FaultsTest, ForeignShaTagIsNotTrustedWithoutAnOperator) {
  ServiceProcess& svc = StartBuildSvc("build-svc");
  const std::string sha = stack_->Commit("main", 0);
  const std::string foreign = PushOutOfBand(sha, 11);
  ASSERT_NE(foreign, "");
  v1::Build build;
  grpc::Status s = Submit(svc, sha, "main", /*wait=*/true, &build);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(build.state(), v1::BUILD_STATE_FAILED)
      << "outcome " << v1::BuildOutcome_Name(build.outcome());
  EXPECT_EQ(build.error_code(), "DIGEST_MISMATCH");
  EXPECT_THAT(build.error_message(), HasSubstr(foreign));
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha), foreign);
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha.substr(0, 12)), "");
  EXPECT_EQ(Value("SELECT count(*) FROM images"), "0");
  EXPECT_EQ(Value("SELECT count(*) FROM events WHERE kind = 'digest_mismatch'"
                  " AND severity = 'error'"),
            "1");

  // Trusting it is an operator's explicit, audited act naming the digest...
  {
    auto stub = v1::BuildService::NewStub(svc.channel());
    grpc::ClientContext ctx;
    Authorize(ctx);
    v1::AdoptImageRequest request;
    request.set_git_sha(sha);
    request.set_digest(foreign);
    request.set_reason("pushed by the release team; inspected by hand");
    v1::Image image;
    grpc::Status adopted = stub->AdoptImage(&ctx, request, &image);
    ASSERT_TRUE(adopted.ok()) << adopted.error_message();
    EXPECT_EQ(image.digest(), foreign);
    EXPECT_EQ(image.origin(), "adopted");
  }
  EXPECT_EQ(Sql("SELECT severity, details->>'adopted_by', details->>'reason'"
                " FROM events WHERE kind = 'image_adopted'"),
            (Rows{{"warning", "faults",
                   "pushed by the release team; inspected by hand"}}));
  // ... after which it is the commit's image: reused, its short tag added.
  v1::Build reused;
  s = Submit(svc, sha, "main", /*wait=*/true, &reused);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reused.state(), v1::BUILD_STATE_SUCCEEDED)
      << reused.error_message();
  EXPECT_EQ(reused.outcome(), v1::BUILD_OUTCOME_REUSED);
  EXPECT_EQ(reused.digest(), foreign);
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha.substr(0, 12)), foreign);
}

// SIGKILL after the SHA tags are written, before the signature is: the
// restarted service finishes the build, and the image ends signed and
// attested with the configured key, recorded "signed" (never NULL).
TEST_F(FaultsTest, BuildSvcKilledBetweenTaggingAndSigningEndsSigned) {
  RegistryGate& gate = UseGate();
  const std::string key = NewSigningKey();
  ServiceProcess& first = StartBuildSvc("build-svc", {.signing_key_file = key});
  const std::string sha = stack_->Commit("main", 1);
  gate.Hold(RegistryGate::SignatureRequest());
  v1::Build build;
  ASSERT_TRUE(Submit(first, sha, "main", /*wait=*/false, &build).ok());
  ASSERT_TRUE(gate.WaitUntilHeld(absl::Seconds(120)))
      << "the build never started signing";
  const std::string digest = TagDigest(space_.canonical_repository, sha);
  ASSERT_NE(digest, "") << "signing started before tagging";
  first.Kill();
  gate.Open(/*forward_held=*/false);

  StartBuildSvc("build-svc", {.signing_key_file = key});
  ASSERT_TRUE(BuildsSettle(absl::Seconds(60)));
  Rows b = Sql(absl::StrCat(
      "SELECT state, outcome, digest, signature_status, provenance_ref,"
      " attempts FROM builds WHERE build_id = ",
      build.build_id()));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0][0], "succeeded");
  EXPECT_EQ(b[0][2], digest);
  EXPECT_EQ(b[0][1], "reused") << "the restart found the tag and its record";
  EXPECT_EQ(b[0][3], "signed");
  EXPECT_NE(b[0][4], "");
  EXPECT_EQ(b[0][5], "2");
  EXPECT_EQ(Sql("SELECT digest, signature_status, provenance_ref <> ''"
                " FROM images"),
            (Rows{{digest, "signed", "t"}}));
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha), digest);
  signature::VerificationResult verdict = VerifySignature(digest);
  EXPECT_EQ(verdict.reason, signature::Reason::kVerified)
      << signature::ReasonName(verdict.reason) << " " << verdict.details;
  EXPECT_EQ(verdict.provenance_status, signature::ProvenanceStatus::kVerified)
      << signature::ProvenanceStatusName(verdict.provenance_status);
}

// PostgreSQL restarts while a build is between its push and its tags, and
// a second build of the same SHA waits: every database session is gone, the
// publication goes on and ends recorded, the tags are written once, and the
// second build reuses the image.
TEST_F(FaultsTest, PostgresRestartDuringAPublishStillPublishesOnce) {
  RegistryGate& gate = UseGate();
  ServiceProcess& svc = StartBuildSvc("build-svc", {.workers = 2});
  const std::string sha = stack_->Commit("main", 2);
  gate.Hold(RegistryGate::TagWrite(sha));
  v1::Build first, second;
  ASSERT_TRUE(Submit(svc, sha, "main", /*wait=*/false, &first).ok());
  ASSERT_TRUE(gate.WaitUntilHeld(absl::Seconds(120)))
      << "the build never reached its tags";
  ASSERT_TRUE(Submit(svc, sha, "main", /*wait=*/false, &second).ok());
  ASSERT_TRUE(stack_->postgres().Stop().ok());
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(stack_->postgres().Restart().ok());
  gate.Open(/*forward_held=*/true);

  ASSERT_TRUE(BuildsSettle(absl::Seconds(90)));
  Rows builds =
      Sql("SELECT build_id, state, outcome, digest, error_message FROM builds"
          " ORDER BY build_id");
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(builds[0][0], first.build_id());
  EXPECT_EQ(builds[0][1], "succeeded") << builds[0][4];
  EXPECT_EQ(builds[0][2], "published");
  EXPECT_EQ(builds[1][1], "succeeded") << builds[1][4];
  EXPECT_EQ(builds[1][2], "reused");
  const std::string digest = builds[0][3];
  EXPECT_EQ(builds[1][3], digest);
  EXPECT_EQ(gate.Count(RegistryGate::TagWrite(sha)), 1);
  EXPECT_EQ(gate.Count(RegistryGate::TagWrite(sha.substr(0, 12))), 1);
  EXPECT_EQ(Sql("SELECT digest, build_id FROM images"),
            (Rows{{digest, first.build_id()}}));
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha), digest);
  EXPECT_EQ(TagDigest(space_.canonical_repository, sha.substr(0, 12)), digest);
}

// A hundred CI jobs wait on builds while one builds for a minute: 50
// SubmitBuild(wait) queued behind it and 50 WatchBuild streams of it. A
// waiting call holds no server thread and sends no query until its build
// changes (before: one thread and 4 to 8 queries a second each); when the
// builds are canceled, every caller hears at once.
TEST_F(FaultsTest, ManyWaitingCallersCostNoThreadsNorQueries) {
  // Every statement of this database's sessions goes to the server log.
  Sql(absl::StrCat("ALTER DATABASE ", space_.name,
                   " SET log_statement = 'all'"));
  ServiceProcess& svc = StartBuildSvc("build-svc");
  const std::string sha = stack_->Commit("slow");
  v1::Build running;
  ASSERT_TRUE(Submit(svc, sha, "slow", /*wait=*/false, &running).ok());
  // Quiet from here: the Dockerfile's `RUN sleep 60` prints nothing.
  ASSERT_TRUE(WaitFor(
      [&] {
        for (pid_t pid : ProcessesUsing(space_.work_dir)) {
          if (absl::StrContains(ReadCommandLine(pid), "sleep 60")) return true;
        }
        return false;
      },
      absl::Seconds(90)))
      << "the build never reached its RUN step";
  const int idle_threads = ThreadCount(svc.pid());

  constexpr int kEach = 50;
  std::vector<v1::Build> waited(kEach);
  std::vector<grpc::Status> waited_status(kEach);
  std::vector<v1::BuildState> watched(kEach, v1::BUILD_STATE_UNSPECIFIED);
  std::atomic<int> watching{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kEach; ++i) {
    callers.emplace_back([&, i] {
      waited_status[i] = Submit(svc, sha, "slow", /*wait=*/true, &waited[i]);
    });
    callers.emplace_back([&, i] {
      auto stub = v1::BuildService::NewStub(svc.channel());
      grpc::ClientContext ctx;
      Authorize(ctx);
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::minutes(2));
      v1::WatchBuildRequest request;
      request.set_build_id(running.build_id());
      auto stream = stub->WatchBuild(&ctx, request);
      v1::BuildEvent event;
      bool first = true;
      while (stream->Read(&event)) {
        if (first) ++watching;
        first = false;
        watched[i] = event.build().state();
      }
      (void)stream->Finish();
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        return watching.load() == kEach &&
               Value("SELECT count(*) FROM builds WHERE state = 'queued'") ==
                   absl::StrCat(kEach);
      },
      absl::Seconds(30)));

  // Waiting: the threads of an idle server, and the running build's
  // heartbeat (a transaction a second), nothing per caller. (A change of the
  // build — log lines, a phase — costs each WatchBuild one read.)
  absl::SleepFor(absl::Seconds(1.5));  // the last log lines' flush
  std::ifstream log(stack_->postgres().log_path());
  log.seekg(0, std::ios::end);
  const int waiting_threads = ThreadCount(svc.pid());
  absl::SleepFor(absl::Seconds(3));
  int statements = 0;
  for (std::string line; std::getline(log, line);) {
    statements += absl::StrContains(line, "LOG:  statement: ") ||
                  absl::StrContains(line, "LOG:  execute ");
  }
  std::cerr << "build-svc threads: " << idle_threads << " idle, "
            << waiting_threads << " with " << 2 * kEach
            << " callers waiting; statements in 3 s: " << statements << "\n";
  EXPECT_LT(waiting_threads, idle_threads + 10)
      << "threads idle " << idle_threads << ", with " << 2 * kEach
      << " callers waiting " << waiting_threads;
  EXPECT_LT(statements, 30)
      << "statements in 3 s while " << 2 * kEach << " callers waited";

  // Every build canceled: every caller is answered.
  Rows ids =
      Sql("SELECT build_id FROM builds WHERE state IN ('queued', 'running')");
  auto stub = v1::BuildService::NewStub(svc.channel());
  for (const std::vector<std::string>& id : ids) {
    grpc::ClientContext ctx;
    Authorize(ctx);
    v1::CancelBuildRequest request;
    request.set_build_id(id[0]);
    v1::Build canceled;
    ASSERT_TRUE(stub->CancelBuild(&ctx, request, &canceled).ok());
  }
  const absl::Time canceled_at = absl::Now();
  for (std::thread& t : callers) t.join();
  EXPECT_LT(absl::Now() - canceled_at, absl::Seconds(20));
  for (int i = 0; i < kEach; ++i) {
    ASSERT_TRUE(waited_status[i].ok()) << waited_status[i].error_message();
    EXPECT_EQ(waited[i].state(), v1::BUILD_STATE_CANCELED);
    EXPECT_EQ(watched[i], v1::BUILD_STATE_CANCELED);
  }
}
// The preflight caches (verified signature verdicts, rendered manifests)
// and the shared tag lookups must not hide a tamper: a signed image is
// resolved and dry-run repeatedly — and by eight clients in a loop — so
// every cache is warm, then its SHA tag is repointed out of band. The very
// next ResolveImage and dry run are DATA_LOSS (DIGEST_MISMATCH), and so is
// every background call that started after the push returned.
TEST_F(FaultsTest, TagRepointedUnderWarmCachesIsCaughtAtTheVeryNextCall) {
  ServiceProcess& build_svc =
      StartBuildSvc("build-svc", {.signing_key_file = NewSigningKey()});
  space_.signature_public_key_file = absl::StrCat(space_.dir, "/cosign.pub");
  std::ofstream(space_.signature_public_key_file)
      << signing_key_->public_key().ToPem();
  const std::string sha = stack_->Commit("main", 0);
  const std::string built = BuildMain(build_svc, sha);
  const std::string env = "faults";
  ServiceProcess& deploy_svc = StartDeploySvc(
      "deploy-svc", {{.name = env, .container_name = NewContainerName()}});
  auto stub = v1::DeployService::NewStub(deploy_svc.channel());
  auto resolve = [&](v1::ResolvedImage* out) {
    grpc::ClientContext ctx;
    Authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    v1::ResolveImageRequest req;
    req.set_image_sha(sha);
    return stub->ResolveImage(&ctx, req, out);
  };
  for (int i = 0; i < 3; ++i) {
    v1::ResolvedImage r;
    grpc::Status s = resolve(&r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.digest(), built);
    EXPECT_EQ(r.signature_status(), "verified") << r.signature_reason();
    v1::Deployment dry;
    s = Deploy(deploy_svc, env, sha, &dry, /*dry_run=*/true);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(dry.signature_status(), "verified");
  }

  // Eight clients resolve in a loop, noting when each call started.
  struct Outcome {
    absl::Time started;
    grpc::StatusCode code;
  };
  std::atomic<bool> stop{false};
  std::vector<std::vector<Outcome>> outcomes(8);
  std::vector<std::thread> load;
  for (auto& mine : outcomes) {
    load.emplace_back([&, &mine = mine] {
      auto own = v1::DeployService::NewStub(deploy_svc.channel());
      while (!stop) {
        grpc::ClientContext ctx;
        Authorize(ctx);
        v1::ResolveImageRequest req;
        req.set_image_sha(sha);
        v1::ResolvedImage r;
        const absl::Time started = absl::Now();
        grpc::Status s = own->ResolveImage(&ctx, req, &r);
        mine.push_back({started, s.error_code()});
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));  // let the load run warm
  const std::string tampered = PushOutOfBand(sha, 11);
  const absl::Time repointed = absl::Now();
  EXPECT_NE(tampered, "");
  EXPECT_NE(tampered, built);
  v1::ResolvedImage after;
  grpc::Status next = resolve(&after);
  v1::Deployment dry;
  grpc::Status next_dry = Deploy(deploy_svc, env, sha, &dry, /*dry_run=*/true);
  absl::SleepFor(absl::Milliseconds(300));
  stop = true;
  for (std::thread& t : load) t.join();

  EXPECT_EQ(next.error_code(), grpc::StatusCode::DATA_LOSS)
      << next.error_message();
  EXPECT_THAT(next.error_message(), HasSubstr("DIGEST_MISMATCH"));
  EXPECT_EQ(next_dry.error_code(), grpc::StatusCode::DATA_LOSS)
      << next_dry.error_message();
  int before = 0, after_push = 0;
  for (const auto& mine : outcomes) {
    for (const Outcome& o : mine) {
      if (o.started < repointed) {
        ++before;
        continue;
      }
      ++after_push;
      EXPECT_EQ(o.code, grpc::StatusCode::DATA_LOSS)
          << "a call that started " << (o.started - repointed)
          << " after the repoint was answered from before it";
    }
  }
  EXPECT_GT(before, 0);
  EXPECT_GT(after_push, 0);
  // Every dry run is on record; the last one failed as a mismatch.
  EXPECT_EQ(Sql("SELECT state, error_code FROM deployments"
                " ORDER BY deployment_id DESC LIMIT 1"),
            (Rows{{"failed", "DIGEST_MISMATCH"}}));
  EXPECT_EQ(Value("SELECT count(*) FROM deployments WHERE state = 'succeeded'"
                  " AND signature_status = 'verified'"),
            "3");
}

}  // namespace
}  // namespace shapin::faults

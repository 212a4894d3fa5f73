// LocalPodmanTarget with real podman, a real docker-registry and the sample
// app (tests/fixtures/sample-app: busybox httpd serving /healthz and
// /version), built per test with buildah into a private store. podman
// also uses a private store (--root/--runroot in a temp dir), so the test
// neither sees nor leaves containers or images in the host's storage.
#include "deploy-svc/adapters/local_podman_target.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/error_code.h"
#include "common/registry/curl_transport.h"
#include "common/registry/testing/registry_server.h"
#include "common/registry/testing/status_matchers.h"
#include "common/registry/testing/tiny_http_server.h"
#include "common/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::deploy {
namespace {

using ::shapin::registry::testing::IsOk;
using ::shapin::registry::testing::RegistryServer;
using ::shapin::registry::testing::StatusIs;
using ::shapin::registry::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kShaA[] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
constexpr char kShaB[] = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
constexpr char kShaBroken[] = "dead0000dead0000dead0000dead0000dead0000";

absl::StatusOr<std::string> Tool(std::vector<std::string> argv,
                                 absl::Duration timeout = absl::Seconds(120)) {
  SubprocessOptions opts;
  const std::string what = argv[0];
  opts.argv = std::move(argv);
  opts.env_allow = {"HOME", "TMPDIR"};
  opts.timeout = timeout;
  absl::StatusOr<SubprocessResult> r = RunSubprocess(opts);
  if (!r.ok()) return r.status();
  if (absl::Status s = r->CheckSuccess(what); !s.ok()) return s;
  return std::string(absl::StripAsciiWhitespace(r->stdout_data));
}

// The health-check transport, spying: on every probe of the new container
// it also asks the old one, so the test sees what served meanwhile.
class SpyTransport : public registry::HttpTransport {
 public:
  explicit SpyTransport(registry::HttpTransport* inner) : inner_(inner) {}
  absl::StatusOr<registry::HttpResponse> RoundTrip(
      const registry::HttpRequest& request) override {
    std::string watch;
    {
      absl::MutexLock lock(&mu_);
      watch = watch_url_;
    }
    if (!watch.empty()) {
      registry::HttpRequest old;
      old.url = watch;
      old.timeout = absl::Seconds(2);
      absl::StatusOr<registry::HttpResponse> r = inner_->RoundTrip(old);
      absl::MutexLock lock(&mu_);
      meanwhile_.push_back(
          r.ok() ? absl::StrCat(r->status, " ",
                                absl::StripTrailingAsciiWhitespace(r->body))
                 : std::string(r.status().message()));
    }
    return inner_->RoundTrip(request);
  }
  void Watch(std::string url) {
    absl::MutexLock lock(&mu_);
    watch_url_ = std::move(url);
    meanwhile_.clear();
  }
  void StopWatching() {
    absl::MutexLock lock(&mu_);
    watch_url_.clear();
  }
  std::vector<std::string> meanwhile() {
    absl::MutexLock lock(&mu_);
    return meanwhile_;
  }

 private:
  registry::HttpTransport* inner_;
  absl::Mutex mu_;
  std::string watch_url_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> meanwhile_ ABSL_GUARDED_BY(mu_);
};

class LocalPodmanTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("shapin-podman-test");
    ASSERT_THAT(dir, IsOk());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto reg = RegistryServer::Start();
    ASSERT_THAT(reg, IsOk());
    registry_ = std::move(*reg);
    auto curl = registry::CurlTransport::Create({});
    ASSERT_THAT(curl, IsOk());
    http_ = std::move(*curl);
    podman_args_ = {"--root",           Path("podman-root"), "--runroot",
                    Path("podman-run"), "--storage-driver",  "vfs"};
    BuildImages();
  }

  void TearDown() override {
    // Whatever a failed assertion left running goes too.
    std::vector<std::string> rm = {"podman"};
    rm.insert(rm.end(), podman_args_.begin(), podman_args_.end());
    rm.insert(rm.end(), {"rm", "--all", "--force", "--time", "0"});
    EXPECT_THAT(Tool(rm), IsOk());
  }

  std::string Path(const std::string& name) {
    return (dir_->path() / name).string();
  }

  // The sample app for A and B, and an image whose /healthz never answers
  // 200 (the bare base image serves an empty /www).
  void BuildImages() {
    absl::StatusOr<std::string> base = Tool(
        {std::string(SHAPIN_SOURCE_DIR) + "/tests/fixtures/make-base-image",
         registry_->host()});
    ASSERT_THAT(base, IsOk());
    const std::string broken_ctx = Path("broken");
    std::filesystem::create_directories(broken_ctx);
    std::ofstream(broken_ctx + "/Containerfile")
        << "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG GIT_SHA\n"
           "LABEL shapin.test=never-healthy\n";
    const std::string app_ctx =
        std::string(SHAPIN_SOURCE_DIR) + "/tests/fixtures/sample-app";
    for (const auto& [sha, ctx] :
         std::vector<std::pair<std::string, std::string>>{
             {kShaA, app_ctx}, {kShaB, app_ctx}, {kShaBroken, broken_ctx}}) {
      const std::vector<std::string> bah = {"buildah",
                                            "--root",
                                            Path("buildah-root"),
                                            "--runroot",
                                            Path("buildah-run"),
                                            "--storage-driver",
                                            "vfs"};
      std::vector<std::string> bud = bah;
      bud.insert(
          bud.end(),
          {"bud", "--isolation=chroot", "--tls-verify=false", "--layers=false",
           "--quiet", "--build-arg", "BASE_IMAGE=" + *base, "--build-arg",
           "GIT_SHA=" + sha, "-t", "localhost/app:" + sha, ctx});
      ASSERT_THAT(Tool(bud), IsOk());
      const std::string name = absl::StrCat(registry_->host(), "/shapin/app");
      const std::string digest_file = Path("digest-" + sha);
      std::vector<std::string> push = bah;
      push.insert(
          push.end(),
          {"push", "--quiet", "--tls-verify=false", "--digestfile", digest_file,
           "localhost/app:" + sha, absl::StrCat("docker://", name, ":", sha)});
      ASSERT_THAT(Tool(push), IsOk());
      std::ifstream in(digest_file);
      std::string digest;
      in >> digest;
      absl::StatusOr<ImageRef> ref =
          ImageRef::Parse(absl::StrCat(name, ":", sha, "@", digest));
      ASSERT_THAT(ref, IsOk());
      images_.emplace(sha, *ref);
    }
  }

  std::unique_ptr<LocalPodmanTarget> MakeTarget(absl::Duration health_timeout) {
    LocalPodmanOptions o;
    o.global_args = podman_args_;
    o.health_timeout = health_timeout;
    o.health_poll_interval = absl::Milliseconds(200);
    o.stop_timeout = absl::Seconds(1);  // busybox httpd ignores SIGTERM
    auto spy = std::make_unique<SpyTransport>(http_.get());
    spy_ = spy.get();
    o.transport = std::move(spy);
    absl::StatusOr<std::unique_ptr<LocalPodmanTarget>> t =
        LocalPodmanTarget::Create(std::move(o));
    EXPECT_THAT(t, IsOk());
    return std::move(*t);
  }

  ApplyRequest Request(const std::string& sha, TargetSettings settings) {
    return ApplyRequest{.environment = environment_,
                        .image = images_.at(sha),
                        .git_sha = *GitSha::Parse(sha),
                        .settings = std::move(settings)};
  }

  RolloutQuery Query(const std::string& sha, TargetSettings settings) {
    return RolloutQuery{.environment = environment_,
                        .image = images_.at(sha),
                        .settings = std::move(settings)};
  }

  // "200 <body>" or the transport error.
  std::string Get(const std::string& url) {
    registry::HttpRequest req;
    req.url = url;
    req.timeout = absl::Seconds(3);
    absl::StatusOr<registry::HttpResponse> r = http_->RoundTrip(req);
    if (!r.ok()) return std::string(r.status().message());
    return absl::StrCat(r->status, " ",
                        absl::StripTrailingAsciiWhitespace(r->body));
  }

  std::vector<std::string> ContainerNames() {
    std::vector<std::string> ps = {"podman"};
    ps.insert(ps.end(), podman_args_.begin(), podman_args_.end());
    ps.insert(ps.end(), {"ps", "--all", "--format", "{{.Names}}"});
    absl::StatusOr<std::string> out = Tool(ps);
    EXPECT_THAT(out, IsOk());
    if (!out.ok() || out->empty()) return {};
    std::vector<std::string> names = absl::StrSplit(*out, '\n');
    std::sort(names.begin(), names.end());
    return names;
  }

  const std::string environment_ = "demo";
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<registry::CurlTransport> http_;
  std::vector<std::string> podman_args_;
  std::map<std::string, ImageRef> images_;
  SpyTransport* spy_ = nullptr;
};

TEST_F(LocalPodmanTargetTest, ReplacesOnlyAfterTheNewContainerIsHealthy) {
  const TargetSettings settings = {{"container_port", "8080"},
                                   {"health_path", "/healthz"},
                                   {"env.APP_MODE", "test: yes # really"}};
  auto target = MakeTarget(absl::Seconds(30));

  // A: the first container of the environment.
  absl::StatusOr<ApplyResult> a = target->Apply(Request(kShaA, settings));
  ASSERT_THAT(a, IsOk());
  ASSERT_EQ(a->endpoints.size(), 1u);
  const std::string endpoint_a = a->endpoints[0];
  EXPECT_THAT(endpoint_a, ::testing::StartsWith("http://127.0.0.1:"));
  EXPECT_EQ(Get(endpoint_a + "/version"), absl::StrCat("200 ", kShaA));
  EXPECT_TRUE(a->previous_revision.empty());
  EXPECT_EQ(a->revision, images_.at(kShaA).digest()->str());
  absl::StatusOr<RolloutStatus> rollout_a =
      target->CheckRollout(Query(kShaA, settings));
  ASSERT_THAT(rollout_a, IsOk());
  EXPECT_TRUE(rollout_a->done) << rollout_a->detail;
  EXPECT_THAT(rollout_a->endpoints, ElementsAre(endpoint_a));
  EXPECT_THAT(ContainerNames(), ElementsAre("shapin-demo"));

  // B: A keeps serving while B is being checked, then B replaces it.
  spy_->Watch(endpoint_a + "/version");
  absl::StatusOr<ApplyResult> b = target->Apply(Request(kShaB, settings));
  ASSERT_THAT(b, IsOk());
  spy_->StopWatching();
  EXPECT_THAT(spy_->meanwhile(), ::testing::Each(absl::StrCat("200 ", kShaA)));
  EXPECT_FALSE(spy_->meanwhile().empty());
  const std::string endpoint_b = b->endpoints[0];
  EXPECT_EQ(Get(endpoint_b + "/version"), absl::StrCat("200 ", kShaB));
  EXPECT_EQ(b->previous_revision, images_.at(kShaA).digest()->str());
  EXPECT_THAT(ContainerNames(), ElementsAre("shapin-demo"));
  absl::StatusOr<RolloutStatus> rollout_b =
      target->CheckRollout(Query(kShaB, settings));
  ASSERT_THAT(rollout_b, IsOk());
  EXPECT_TRUE(rollout_b->done) << rollout_b->detail;
  // Asking for A now: running, but not A.
  absl::StatusOr<RolloutStatus> stale =
      target->CheckRollout(Query(kShaA, settings));
  ASSERT_THAT(stale, IsOk());
  EXPECT_FALSE(stale->done);
  EXPECT_THAT(stale->detail, HasSubstr("not sha256:"));

  // Broken: never healthy → error, the candidate is gone, B still serves.
  auto impatient = MakeTarget(absl::Seconds(4));
  absl::StatusOr<ApplyResult> broken =
      impatient->Apply(Request(kShaBroken, settings));
  EXPECT_THAT(broken, StatusIs(absl::StatusCode::kAborted,
                               AllOf(HasSubstr("TARGET_FAILURE"),
                                     HasSubstr("not healthy within 4s"),
                                     HasSubstr("HTTP 404"),
                                     HasSubstr("shapin-demo keeps running"))));
  EXPECT_EQ(ErrorCodeOf(broken.status()), ErrorCode::kTargetFailure);
  EXPECT_THAT(
      std::string(broken.status().message()),
      ::testing::StartsWith("TARGET_FAILURE container shapin-demo-next"));
  EXPECT_EQ(Get(endpoint_b + "/version"), absl::StrCat("200 ", kShaB));
  EXPECT_THAT(ContainerNames(), ElementsAre("shapin-demo"));
  rollout_b = target->CheckRollout(Query(kShaB, settings));
  ASSERT_THAT(rollout_b, IsOk());
  EXPECT_TRUE(rollout_b->done);
}

TEST_F(LocalPodmanTargetTest, FixedPortKeepsTheEndpoint) {
  absl::StatusOr<int> port = registry::testing::PickFreePort();
  ASSERT_THAT(port, IsOk());
  const TargetSettings settings = {{"container_port", "8080"},
                                   {"host_port", absl::StrCat(*port)},
                                   {"name", "fixed-app"}};
  const std::string url = absl::StrCat("http://127.0.0.1:", *port);
  auto target = MakeTarget(absl::Seconds(30));

  absl::StatusOr<ApplyResult> a = target->Apply(Request(kShaA, settings));
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->endpoints, ElementsAre(url));
  EXPECT_EQ(Get(url + "/version"), absl::StrCat("200 ", kShaA));

  absl::StatusOr<ApplyResult> b = target->Apply(Request(kShaB, settings));
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(b->endpoints, ElementsAre(url));
  EXPECT_EQ(Get(url + "/version"), absl::StrCat("200 ", kShaB));
  EXPECT_THAT(ContainerNames(), ElementsAre("fixed-app"));

  auto impatient = MakeTarget(absl::Seconds(3));
  EXPECT_THAT(impatient->Apply(Request(kShaBroken, settings)),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("HTTP 404")));
  EXPECT_EQ(Get(url + "/version"), absl::StrCat("200 ", kShaB));
  EXPECT_THAT(ContainerNames(), ElementsAre("fixed-app"));
}

TEST(LocalPodmanSettingsTest, ValidatesSettings) {
  auto target = LocalPodmanTarget::Create({});
  ASSERT_THAT(target, IsOk());
  struct Case {
    TargetSettings settings;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"container_port", "0"}}, "container_port"},
      {{{"host_port", "70000"}}, "host_port"},
      {{{"health_path", "healthz"}}, "health_path"},
      {{{"name", "-bad"}}, "name"},
      {{{"env.1X", "v"}}, "env.1X"},
      {{{"port", "80"}}, "unknown setting \"port\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(
        (*target)->ValidateSettings(c.settings),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
  EXPECT_THAT(
      (*target)->ValidateSettings(
          {{"container_port", "8080"}, {"host_port", "0"}, {"env.FOO", "bar"}}),
      IsOk());
  EXPECT_EQ(LocalPodmanTarget::DefaultContainerName("prod/eu 1"),
            "shapin-prod-eu-1");
}

}  // namespace
}  // namespace shapin::deploy

#include "build-svc/adapters/buildah_builder.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "build-svc/adapters/git_source_fetcher.h"
#include "common/error_code.h"
#include "common/registry/testing/registry_server.h"
#include "common/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/status_matchers.h"

namespace shapin {
namespace {

namespace fs = std::filesystem;
using ::shapin::registry::testing::RegistryServer;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using ::shapin::testing::StatusIs;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<SubprocessResult> RunTool(std::vector<std::string> argv,
                                         absl::Duration timeout) {
  SubprocessOptions opts;
  opts.argv = std::move(argv);
  opts.timeout = timeout;
  return RunSubprocess(opts);
}

// Entries of `dir` (names only); empty when it does not exist.
std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

// Processes that belong to a build under `dir`: buildah names its storage in
// its argv, and RUN steps are chrooted into a rootfs below it.
std::vector<std::string> ProcessesUnder(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    std::error_code link_ec;
    std::string root = fs::read_symlink(e.path() / "root", link_ec).string();
    // Zombies have an empty cmdline and are gone once reaped.
    if (cmdline.empty()) continue;
    if (absl::StrContains(cmdline, dir) || absl::StartsWith(root, dir)) {
      found.push_back(absl::StrCat(pid, ": ", cmdline, " (root ", root, ")"));
    }
  }
  return found;
}

// The manifest digest the registry reports for "<host:port>/<repo>:<tag>",
// asked over plain HTTP with curl (independent of the code under test).
absl::StatusOr<Digest> RegistryDigest(absl::string_view ref) {
  const size_t slash = ref.find('/');
  const size_t colon = ref.rfind(':');
  if (slash == absl::string_view::npos || colon < slash) {
    return absl::InvalidArgumentError(absl::StrCat("not host/repo:tag: ", ref));
  }
  absl::StatusOr<SubprocessResult> head =
      RunTool({"curl", "-sfI", "-H",
               "Accept: application/vnd.oci.image.manifest.v1+json",
               absl::StrCat("http://", ref.substr(0, slash), "/v2/",
                            ref.substr(slash + 1, colon - slash - 1),
                            "/manifests/", ref.substr(colon + 1))},
              absl::Seconds(30));
  if (!head.ok()) return head.status();
  if (!head->ok()) return head->CheckSuccess("curl");
  for (absl::string_view line : absl::StrSplit(head->stdout_data, '\n')) {
    if (absl::StartsWithIgnoreCase(line, "docker-content-digest:")) {
      return Digest::Parse(absl::StripAsciiWhitespace(
          line.substr(std::string("docker-content-digest:").size())));
    }
  }
  return absl::NotFoundError("no Docker-Content-Digest header");
}

// Builds run from commits of the sample repository, fetched the way the
// pipeline fetches them, against a real registry holding the base image.
class BuildahBuilderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "builderXXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    // Canonical: compared with paths the kernel reports for processes.
    root_ = new std::string(fs::canonical(pattern).string());

    absl::StatusOr<std::unique_ptr<RegistryServer>> registry =
        RegistryServer::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = registry->release();

    absl::StatusOr<SubprocessResult> base = RunTool(
        {absl::StrCat(SHAPIN_SOURCE_DIR, "/tests/fixtures/make-base-image"),
         registry_->host()},
        absl::Seconds(60));
    ASSERT_TRUE(base.ok()) << base.status();
    ASSERT_TRUE(base->ok()) << base->CheckSuccess("make-base-image");
    base_image_ =
        new std::string(absl::StripAsciiWhitespace(base->stdout_data));

    const std::string repo = absl::StrCat(*root_, "/repo");
    absl::StatusOr<SubprocessResult> made = RunTool(
        {absl::StrCat(SHAPIN_SOURCE_DIR, "/tests/fixtures/make-sample-repo"),
         repo},
        absl::Seconds(60));
    ASSERT_TRUE(made.ok()) << made.status();
    ASSERT_TRUE(made->ok()) << made->CheckSuccess("make-sample-repo");
    commits_ = new std::vector<std::pair<std::string, std::string>>;
    for (absl::string_view line :
         absl::StrSplit(made->stdout_data, '\n', absl::SkipEmpty())) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_EQ(parts.size(), 2u) << line;
      commits_->emplace_back(parts[0], parts[1]);
    }
    repo_url_ = new std::string(absl::StrCat("file://", repo));
  }

  static void TearDownTestSuite() {
    delete registry_;
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    delete base_image_;
    delete commits_;
    delete repo_url_;
  }

  void SetUp() override {
    dir_ = absl::StrCat(
        *root_, "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    storage_ = absl::StrCat(dir_, "/storage");
    fs::create_directories(storage_);
  }

  // The last commit on `branch` (make-sample-repo prints oldest first).
  static GitSha Commit(absl::string_view branch, int from_last = 0) {
    std::vector<std::string> shas;
    for (const auto& [b, sha] : *commits_) {
      if (b == branch) shas.push_back(sha);
    }
    return GitSha::Parse(shas.at(shas.size() - 1 - from_last)).value();
  }

  FetchedSource Fetch(const GitSha& sha) {
    GitSourceFetcher fetcher;
    absl::StatusOr<FetchedSource> src =
        fetcher.Fetch({.url = *repo_url_,
                       .sha = sha,
                       .workspace_dir = absl::StrCat(
                           dir_, "/src-", sha.short_sha(), "-", next_dir_++),
                       .timeout = absl::Seconds(60),
                       .cancel = nullptr,
                       .on_line = {}});
    EXPECT_TRUE(src.ok()) << src.status();
    return *src;
  }

  BuildRequest Request(const FetchedSource& src) {
    return BuildRequest{
        .context_dir = src.checkout_dir,
        .dockerfile = "Dockerfile",
        .commit_time = src.commit_time,
        .build_args = {{"BASE_IMAGE", *base_image_},
                       {"GIT_SHA", src.sha.str()}},
        .insecure_registries = {registry_->host()},
        .output_dir = absl::StrCat(dir_, "/oci-", next_dir_++),
        .timeout = absl::Seconds(120),
        .cancel = nullptr,
        .on_line =
            [this](absl::string_view line) {
              absl::MutexLock lock(&lines_mu_);
              lines_.emplace_back(line);
            },
    };
  }

  BuildahBuilder Builder() {
    return BuildahBuilder({.storage_parent_dir = storage_});
  }

  std::vector<std::string> Lines() {
    absl::MutexLock lock(&lines_mu_);
    return lines_;
  }

  static std::string* root_;
  static RegistryServer* registry_;
  static std::string* base_image_;
  static std::vector<std::pair<std::string, std::string>>* commits_;
  static std::string* repo_url_;

  std::string dir_;
  std::string storage_;
  int next_dir_ = 0;
  absl::Mutex lines_mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(lines_mu_);
};

std::string* BuildahBuilderTest::root_ = nullptr;
RegistryServer* BuildahBuilderTest::registry_ = nullptr;
std::string* BuildahBuilderTest::base_image_ = nullptr;
std::vector<std::pair<std::string, std::string>>* BuildahBuilderTest::commits_ =
    nullptr;
std::string* BuildahBuilderTest::repo_url_ = nullptr;

TEST_F(BuildahBuilderTest, SampleAppBuildsToVerifiedOciLayout) {
  const FetchedSource src = Fetch(Commit("main"));
  BuildRequest request = Request(src);
  absl::StatusOr<BuiltImage> image = Builder().Build(request);
  ASSERT_TRUE(image.ok()) << image.status();

  EXPECT_EQ(image->oci_layout_dir, request.output_dir);
  EXPECT_EQ(image->platform, "linux/amd64");
  const fs::path layout(image->oci_layout_dir);
  const fs::path blobs = layout / "blobs" / "sha256";
  EXPECT_TRUE(fs::exists(layout / "oci-layout"));

  // index.json names exactly the reported manifest, whose bytes hash to it.
  nlohmann::json index = nlohmann::json::parse(ReadFile(layout / "index.json"));
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["digest"], image->manifest_digest.str());
  const std::string manifest_bytes =
      ReadFile(blobs / std::string(image->manifest_digest.hex()));
  EXPECT_EQ(Digest::OfBytes(manifest_bytes), image->manifest_digest);
  nlohmann::json manifest = nlohmann::json::parse(manifest_bytes);
  EXPECT_EQ(manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json");

  // Size is manifest + config + layers, and every blob is there.
  int64_t size = static_cast<int64_t>(manifest_bytes.size());
  size += manifest["config"]["size"].get<int64_t>();
  for (const nlohmann::json& layer : manifest["layers"]) {
    EXPECT_EQ(layer["mediaType"],
              "application/vnd.oci.image.layer.v1.tar+gzip");
    size += layer["size"].get<int64_t>();
  }
  EXPECT_EQ(image->size_bytes, size);

  // The config is linux/amd64 and dated at the commit, not at build time.
  const std::string config_digest = manifest["config"]["digest"];
  nlohmann::json config = nlohmann::json::parse(ReadFile(
      blobs / std::string(absl::StripPrefix(config_digest, "sha256:"))));
  EXPECT_EQ(config["architecture"], "amd64");
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["created"],
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", src.commit_time,
                             absl::UTCTimeZone()));
  EXPECT_FALSE(config["config"].contains("Labels") &&
               config["config"]["Labels"].contains("io.buildah.version"));

  // /version of the built site is the commit's SHA.
  const std::string top_layer = manifest["layers"].back()["digest"];
  absl::StatusOr<SubprocessResult> version = RunTool(
      {"tar", "-xzOf",
       (blobs / std::string(absl::StripPrefix(top_layer, "sha256:"))).string(),
       "www/version"},
      absl::Seconds(30));
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->stdout_data, absl::StrCat(src.sha.str(), "\n"));

  // The base image is reported as what the registry serves for its tag.
  ASSERT_THAT(image->base_images, SizeIs(1));
  EXPECT_EQ(image->base_images[0].name, *base_image_);
  absl::StatusOr<Digest> base_digest = RegistryDigest(*base_image_);
  ASSERT_TRUE(base_digest.ok()) << base_digest.status();
  EXPECT_EQ(image->base_images[0].digest, *base_digest);

  // Builder output streamed; the storage directory is gone.
  EXPECT_THAT(Lines(), Contains(HasSubstr("STEP 1/")));
  EXPECT_THAT(Entries(storage_), IsEmpty());
}

TEST_F(BuildahBuilderTest, SameCommitTwiceGivesSameDigest) {
  const GitSha sha = Commit("main", 1);
  // Separate fetches: different checkouts, different file mtimes.
  absl::StatusOr<BuiltImage> first = Builder().Build(Request(Fetch(sha)));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<BuiltImage> second = Builder().Build(Request(Fetch(sha)));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->manifest_digest, second->manifest_digest);
  EXPECT_EQ(first->size_bytes, second->size_bytes);

  // A different commit is a different image.
  absl::StatusOr<BuiltImage> other =
      Builder().Build(Request(Fetch(Commit("main"))));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->manifest_digest, first->manifest_digest);
}

TEST_F(BuildahBuilderTest, BrokenDockerfileIsBuildFailureWithBuildahsError) {
  absl::StatusOr<BuiltImage> image =
      Builder().Build(Request(Fetch(Commit("broken"))));
  EXPECT_THAT(image, StatusIs(absl::StatusCode::kAborted,
                              AllOf(HasSubstr("BUILD_FAILURE"),
                                    HasSubstr("buildah bud"),
                                    HasSubstr("NOT_AN_INSTRUCTION"))));
  EXPECT_EQ(ErrorCodeOf(image.status()), ErrorCode::kBuildFailure);
  EXPECT_THAT(Lines(), Contains(HasSubstr("NOT_AN_INSTRUCTION")));
  EXPECT_THAT(Entries(storage_), IsEmpty());
}

TEST_F(BuildahBuilderTest, FailingRunStepIsBuildFailure) {
  // The sample app refuses to build without GIT_SHA (its /version would lie).
  BuildRequest request = Request(Fetch(Commit("main")));
  request.build_args = {{"BASE_IMAGE", *base_image_}};
  EXPECT_THAT(Builder().Build(request),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("BUILD_FAILURE"),
                             HasSubstr("build arg GIT_SHA is required"))));
  EXPECT_THAT(Entries(storage_), IsEmpty());
}

// Starts a build of the `slow` commit (RUN sleep 60) on a thread and waits
// until the sleep runs inside the build.
class SlowBuild {
 public:
  SlowBuild(BuildahBuilder builder, BuildRequest request, std::string storage)
      : builder_(std::move(builder)),
        request_(std::move(request)),
        storage_(std::move(storage)) {
    thread_ = std::thread([this] {
      result_ = builder_.Build(request_);
      done_ = true;
    });
  }
  ~SlowBuild() {
    if (thread_.joinable()) thread_.join();
  }

  bool WaitForSleep(absl::Duration limit) {
    const absl::Time give_up = absl::Now() + limit;
    while (absl::Now() < give_up && !done_) {
      for (const std::string& p : ProcessesUnder(storage_)) {
        if (absl::StrContains(p, ": sleep 60 ")) return true;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  absl::StatusOr<BuiltImage> Wait() {
    thread_.join();
    return result_;
  }

 private:
  BuildahBuilder builder_;
  BuildRequest request_;
  std::string storage_;
  absl::StatusOr<BuiltImage> result_ = absl::UnknownError("not run");
  std::atomic<bool> done_{false};
  std::thread thread_;
};

TEST_F(BuildahBuilderTest, CancelKillsEveryProcessAndRemovesStorage) {
  std::atomic<bool> cancel{false};
  BuildRequest request = Request(Fetch(Commit("slow")));
  request.cancel = &cancel;
  SlowBuild build(Builder(), request, storage_);
  ASSERT_TRUE(build.WaitForSleep(absl::Seconds(60)))
      << "the RUN sleep step never started";

  const absl::Time canceled_at = absl::Now();
  cancel = true;
  absl::StatusOr<BuiltImage> image = build.Wait();
  EXPECT_THAT(image,
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("canceled")));
  EXPECT_LT(absl::Now() - canceled_at, absl::Seconds(10));
  EXPECT_THAT(ProcessesUnder(storage_), IsEmpty());
  EXPECT_THAT(Entries(storage_), IsEmpty());
}

TEST_F(BuildahBuilderTest, TimeoutKillsTheBuild) {
  BuildRequest request = Request(Fetch(Commit("slow")));
  request.timeout = absl::Seconds(8);
  const absl::Time started = absl::Now();
  absl::StatusOr<BuiltImage> image = Builder().Build(request);
  EXPECT_THAT(image, StatusIs(absl::StatusCode::kDeadlineExceeded,
                              HasSubstr("did not finish within 8s")));
  EXPECT_LT(absl::Now() - started, absl::Seconds(20));
  EXPECT_THAT(ProcessesUnder(storage_), IsEmpty());
  EXPECT_THAT(Entries(storage_), IsEmpty());
}

TEST_F(BuildahBuilderTest, RefusesMalformedRequests) {
  const FetchedSource src = Fetch(Commit("main"));
  fs::create_symlink("/etc/passwd",
                     fs::path(src.checkout_dir) / "Dockerfile.escape");
  const std::string existing = absl::StrCat(dir_, "/exists");
  fs::create_directories(existing);
  const struct {
    std::string name;
    void (*mutate)(BuildRequest&, const std::string&);
    std::string message;
  } cases[] = {
      {"dockerfile outside",
       [](BuildRequest& r, const std::string&) { r.dockerfile = "../x"; },
       "relative path inside the build context"},
      {"absolute dockerfile",
       [](BuildRequest& r, const std::string&) {
         r.dockerfile = "/etc/passwd";
       },
       "relative path inside the build context"},
      {"dockerfile symlink",
       [](BuildRequest& r, const std::string&) {
         r.dockerfile = "Dockerfile.escape";
       },
       "resolves outside the build context"},
      {"build arg name",
       [](BuildRequest& r, const std::string&) {
         r.build_args.push_back({"A B", "x"});
       },
       "build arg name 'A B'"},
      {"insecure registry",
       [](BuildRequest& r, const std::string&) {
         r.insecure_registries.push_back("evil\"\n[x]");
       },
       "is not host[:port]"},
      {"existing output",
       [](BuildRequest& r, const std::string& existing) {
         r.output_dir = existing;
       },
       "already exists"},
      {"colon in output",
       [](BuildRequest& r, const std::string&) { r.output_dir = "/tmp/a:b"; },
       "contains ':'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    BuildRequest request = Request(src);
    c.mutate(request, existing);
    EXPECT_THAT(
        Builder().Build(request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
  EXPECT_THAT(Entries(storage_), IsEmpty());
}

}  // namespace
}  // namespace shapin

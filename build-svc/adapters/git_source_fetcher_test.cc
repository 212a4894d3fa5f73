#include "build-svc/adapters/git_source_fetcher.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/error_code.h"
#include "common/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shapin {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

using ::shapin::testing::StatusIs;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

GitSha Sha(absl::string_view hex) { return GitSha::Parse(hex).value(); }

// One sample repository (tests/fixtures/make-sample-repo) for the suite; each
// test fetches into its own workspace.
class GitSourceFetcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = absl::StrCat(::testing::TempDir(), "/fetchXXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = new std::string(pattern);
    const std::string repo = absl::StrCat(*root_, "/repo");
    SubprocessOptions opts;
    opts.argv = {
        absl::StrCat(SHAPIN_SOURCE_DIR, "/tests/fixtures/make-sample-repo"),
        repo};
    opts.timeout = absl::Seconds(60);
    absl::StatusOr<SubprocessResult> made = RunSubprocess(opts);
    ASSERT_TRUE(made.ok()) << made.status();
    ASSERT_TRUE(made->ok()) << made->CheckSuccess("make-sample-repo");
    commits_ = new std::vector<std::pair<std::string, std::string>>;
    for (absl::string_view line :
         absl::StrSplit(made->stdout_data, '\n', absl::SkipEmpty())) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_EQ(parts.size(), 2u) << line;
      commits_->emplace_back(parts[0], parts[1]);
    }
    ASSERT_GE(commits_->size(), 3u);
    url_ = new std::string(absl::StrCat("file://", repo));
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    delete commits_;
    delete url_;
  }

  // The n-th commit on main (0 = oldest).
  static GitSha MainCommit(size_t n) { return Sha((*commits_)[n].second); }

  std::string NewWorkspace() {
    return absl::StrCat(*root_, "/ws", next_workspace_++);
  }

  FetchRequest Request(const GitSha& sha) {
    return FetchRequest{.url = *url_,
                        .sha = sha,
                        .workspace_dir = NewWorkspace(),
                        .timeout = absl::Seconds(60),
                        .cancel = nullptr,
                        .on_line = [this](absl::string_view line) {
                          lines_.emplace_back(line);
                        }};
  }

  static std::string* root_;
  static std::vector<std::pair<std::string, std::string>>* commits_;
  static std::string* url_;
  static int next_workspace_;
  std::vector<std::string> lines_;
};

std::string* GitSourceFetcherTest::root_ = nullptr;
std::vector<std::pair<std::string, std::string>>*
    GitSourceFetcherTest::commits_ = nullptr;
std::string* GitSourceFetcherTest::url_ = nullptr;
int GitSourceFetcherTest::next_workspace_ = 0;

TEST_F(GitSourceFetcherTest, FetchesTipAndOlderCommitsExactly) {
  // make-sample-repo commits at 2024-01-01T00:0n:00Z for the n-th commit.
  const struct {
    size_t index;
    bool has_second_revision;
    bool has_third_revision;
  } cases[] = {{0, false, false}, {1, true, false}, {2, false, true}};
  GitSourceFetcher fetcher;
  for (const auto& c : cases) {
    SCOPED_TRACE(absl::StrCat("main commit ", c.index));
    const GitSha sha = MainCommit(c.index);
    absl::StatusOr<FetchedSource> src = fetcher.Fetch(Request(sha));
    ASSERT_TRUE(src.ok()) << src.status();
    EXPECT_EQ(src->sha, sha);
    EXPECT_EQ(src->commit_time,
              absl::FromUnixSeconds(1704067200 + 60 * (c.index + 1)));
    ASSERT_TRUE(fs::exists(fs::path(src->checkout_dir) / "Dockerfile"));
    const std::string index =
        ReadFile(fs::path(src->checkout_dir) / "site" / "index.html");
    EXPECT_EQ(index.find("Second revision") != std::string::npos,
              c.has_second_revision);
    EXPECT_EQ(index.find("Third revision") != std::string::npos,
              c.has_third_revision);
  }
}

TEST_F(GitSourceFetcherTest, CheckoutHasNoGitDirAndGitsModesWhateverTheUmask) {
  // A group-writable umask must not leak into the build context's modes.
  const mode_t old_umask = umask(0002);
  GitSourceFetcher fetcher;
  absl::StatusOr<FetchedSource> src = fetcher.Fetch(Request(MainCommit(2)));
  umask(old_umask);
  ASSERT_TRUE(src.ok()) << src.status();
  const fs::path tree(src->checkout_dir);
  EXPECT_FALSE(fs::exists(tree / ".git"));
  const struct {
    fs::path path;
    fs::perms mode;
  } cases[] = {
      {tree, fs::perms(0755)},
      {tree / "site", fs::perms(0755)},
      {tree / "Dockerfile", fs::perms(0644)},
      {tree / "site" / "index.html", fs::perms(0644)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path.string());
    EXPECT_EQ(fs::status(c.path).permissions(), c.mode);
  }
}

TEST_F(GitSourceFetcherTest, FallsBackToFullFetchWhenServerRefusesSha) {
  // Protocol v0 servers only hand out advertised refs, so the shallow fetch of
  // a non-tip commit is refused and the fetcher must fetch everything.
  GitSourceFetcher fetcher({.git_config = {"protocol.version=0"}});
  const GitSha sha = MainCommit(0);
  absl::StatusOr<FetchedSource> src = fetcher.Fetch(Request(sha));
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(src->sha, sha);
  EXPECT_THAT(lines_, Contains(HasSubstr("fetching all refs")));
  EXPECT_EQ(src->commit_time, absl::FromUnixSeconds(1704067200 + 60));
}

TEST_F(GitSourceFetcherTest, NonexistentShaIsBuildFailureWithGitsReason) {
  const GitSha missing = Sha("0123456789abcdef0123456789abcdef01234567");
  const struct {
    std::string name;
    std::vector<std::string> git_config;
    std::string reason;
  } cases[] = {
      {"protocol v2", {}, "not our ref"},
      {"protocol v0", {"protocol.version=0"}, "unadvertised object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    GitSourceFetcher fetcher({.git_config = c.git_config});
    absl::StatusOr<FetchedSource> src = fetcher.Fetch(Request(missing));
    EXPECT_THAT(
        src,
        StatusIs(absl::StatusCode::kAborted,
                 AllOf(HasSubstr("BUILD_FAILURE"), HasSubstr(missing.str()),
                       HasSubstr("not found"), HasSubstr(c.reason))));
    EXPECT_EQ(ErrorCodeOf(src.status()), ErrorCode::kBuildFailure);
  }
}

TEST_F(GitSourceFetcherTest, UnreachableRepositoryIsBuildFailure) {
  GitSourceFetcher fetcher;
  FetchRequest request = Request(MainCommit(0));
  request.url = absl::StrCat("file://", *root_, "/no-such-repo");
  EXPECT_THAT(fetcher.Fetch(request),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("BUILD_FAILURE"),
                             HasSubstr("does not appear to be a git"))));
}

TEST_F(GitSourceFetcherTest, RefusesDangerousUrls) {
  const struct {
    std::string url;
    std::string message;
  } cases[] = {
      {"--upload-pack=touch /tmp/pwned", "must not start with '-'"},
      {"-oProxyCommand=x", "must not start with '-'"},
      {"ext::sh -c touch% /tmp/pwned", "space or control"},
      {"ext::sh", "transport 'ext' is not allowed"},
      {"fd::3", "transport 'fd' is not allowed"},
      {"ftp://example.com/repo.git", "transport 'ftp' is not allowed"},
      {"file:///x\nfile:///y", "space or control"},
      {"", "empty"},
  };
  GitSourceFetcher fetcher;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    FetchRequest request = Request(MainCommit(0));
    request.url = c.url;
    EXPECT_THAT(
        fetcher.Fetch(request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST_F(GitSourceFetcherTest, RedactsCredentialsInUrls) {
  GitSourceFetcher fetcher({.allowed_protocols = {"https"}});
  FetchRequest request = Request(MainCommit(0));
  request.url = "http://user:s3cr3t-token@127.0.0.1:1/repo.git";
  absl::StatusOr<FetchedSource> src = fetcher.Fetch(request);
  EXPECT_THAT(src, StatusIs(absl::StatusCode::kInvalidArgument,
                            AllOf(HasSubstr("http://***@127.0.0.1:1/repo.git"),
                                  Not(HasSubstr("s3cr3t")))));
}

TEST_F(GitSourceFetcherTest, RefusesNonEmptyWorkspace) {
  GitSourceFetcher fetcher;
  FetchRequest request = Request(MainCommit(0));
  fs::create_directories(request.workspace_dir);
  std::ofstream(fs::path(request.workspace_dir) / "leftover") << "x";
  EXPECT_THAT(fetcher.Fetch(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not an empty directory")));
}

TEST_F(GitSourceFetcherTest, HostGitConfigAndEnvironmentDoNotReachGit) {
  // A user config that would redirect every fetch elsewhere, and variables
  // that would point git at another repository: none of it may apply.
  const std::string home = absl::StrCat(*root_, "/home");
  fs::create_directories(home);
  std::ofstream(fs::path(home) / ".gitconfig")
      << "[url \"file:///nonexistent/\"]\n\tinsteadOf = file://\n";
  const char* old_home = getenv("HOME");
  const std::string saved_home = old_home ? old_home : "";
  setenv("HOME", home.c_str(), 1);
  setenv("GIT_DIR", "/nonexistent", 1);
  setenv("XDG_CONFIG_HOME", home.c_str(), 1);

  GitSourceFetcher fetcher;
  absl::StatusOr<FetchedSource> src = fetcher.Fetch(Request(MainCommit(1)));

  unsetenv("GIT_DIR");
  unsetenv("XDG_CONFIG_HOME");
  if (old_home) {
    setenv("HOME", saved_home.c_str(), 1);
  } else {
    unsetenv("HOME");
  }
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(src->sha, MainCommit(1));
}

TEST_F(GitSourceFetcherTest, ExhaustedTimeoutIsDeadlineExceeded) {
  GitSourceFetcher fetcher;
  FetchRequest request = Request(MainCommit(0));
  request.timeout = absl::ZeroDuration();
  EXPECT_THAT(fetcher.Fetch(request),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr(MainCommit(0).str())));
}

TEST_F(GitSourceFetcherTest, SetCancelFlagIsCancelled) {
  GitSourceFetcher fetcher;
  std::atomic<bool> cancel{true};
  FetchRequest request = Request(MainCommit(0));
  request.cancel = &cancel;
  EXPECT_THAT(fetcher.Fetch(request),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("canceled")));
}

}  // namespace
}  // namespace shapin

#include "build-svc/adapters/git_source_fetcher.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "build-svc/adapters/tool_failure_reason.h"
#include "common/error_code.h"
#include "common/status_macros.h"
#include "common/subprocess.h"

namespace shapin {
namespace {

namespace fs = std::filesystem;

std::string ReasonOf(const SubprocessResult& result) {
  return ToolFailureReason(result);
}

// "https://user:token@host/x" → "https://***@host/x": URLs end up in errors
// and build logs, credentials must not.
std::string RedactUrl(absl::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return std::string(url);
  size_t authority = scheme_end + 3;
  size_t authority_end = url.find('/', authority);
  size_t at = url.rfind('@', authority_end);
  if (at == absl::string_view::npos || at < authority) return std::string(url);
  return absl::StrCat(url.substr(0, authority), "***", url.substr(at));
}

// The transport git would use for `url`, as named in GIT_ALLOW_PROTOCOL.
std::string ProtocolOf(absl::string_view url) {
  size_t helper = url.find("::");
  size_t scheme = url.find("://");
  if (helper != absl::string_view::npos &&
      (scheme == absl::string_view::npos || helper < scheme)) {
    return absl::AsciiStrToLower(url.substr(0, helper));  // "ext::cmd"
  }
  if (scheme != absl::string_view::npos) {
    return absl::AsciiStrToLower(url.substr(0, scheme));
  }
  // scp-like "host:path" is ssh unless a '/' comes before the ':' (a path).
  size_t colon = url.find(':');
  if (colon != absl::string_view::npos &&
      url.substr(0, colon).find('/') == absl::string_view::npos) {
    return "ssh";
  }
  return "file";
}

absl::Status ValidateUrl(absl::string_view url,
                         const std::vector<std::string>& allowed) {
  if (url.empty()) return absl::InvalidArgumentError("source url is empty");
  // git would read a leading '-' as an option, whatever comes before it.
  if (url.front() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("source url must not start with '-': ", RedactUrl(url)));
  }
  for (char c : url) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c)) || c == ' ') {
      return absl::InvalidArgumentError(
          "source url contains a space or control character");
    }
  }
  std::string protocol = ProtocolOf(url);
  if (std::find(allowed.begin(), allowed.end(), protocol) == allowed.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source url ", RedactUrl(url), ": transport '", protocol,
        "' is not allowed (allowed: ", absl::StrJoin(allowed, ", "), ")"));
  }
  return absl::OkStatus();
}

// Creates `dir` or accepts it when it is an empty directory; returns its
// absolute path.
absl::StatusOr<std::string> PrepareWorkspace(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("workspace_dir is empty");
  std::error_code ec;
  fs::path path = fs::absolute(dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("workspace ", dir, ": ", ec.message()));
  }
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec) || !fs::is_empty(path, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("workspace ", path.string(),
                       " exists and is not an empty directory"));
    }
    return path.string();
  }
  fs::create_directories(path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("create workspace ", path.string(), ": ", ec.message()));
  }
  return path.string();
}

// Runs git commands for one fetch, sharing one time budget across them.
class GitSession {
 public:
  GitSession(const GitSourceFetcher::Options& options,
             const FetchRequest& request, std::string workspace)
      : options_(options),
        request_(request),
        workspace_(std::move(workspace)),
        remaining_(request.timeout) {}

  std::string git_dir() const { return absl::StrCat(workspace_, "/git"); }
  std::string work_tree() const { return absl::StrCat(workspace_, "/src"); }

  // Runs `git <args>` against the workspace's repository. Timeout and cancel
  // become errors (DEADLINE_EXCEEDED, CANCELLED); any other outcome is
  // returned for the caller to judge. With `stream`, output goes to
  // request.on_line.
  absl::StatusOr<SubprocessResult> Run(std::vector<std::string> args,
                                       bool stream) {
    return RunGit(absl::StrCat("--git-dir=", git_dir()),
                  absl::StrCat("--work-tree=", work_tree()), std::move(args),
                  stream);
  }

  // `git init` of the (bare) repository, which has no work tree yet.
  absl::StatusOr<SubprocessResult> Init() {
    return RunGit("-c", "init.defaultBranch=shapin",
                  {"init", "-q", "--bare", git_dir()}, true);
  }

  void Note(absl::string_view line) const {
    if (request_.on_line) request_.on_line(line);
  }

 private:
  absl::StatusOr<SubprocessResult> RunGit(std::string first, std::string second,
                                          std::vector<std::string> args,
                                          bool stream) {
    if (remaining_ <= absl::ZeroDuration()) return TimedOut();
    SubprocessOptions opts;
    opts.argv = {options_.git_binary, std::move(first), std::move(second)};
    for (const std::string& setting : options_.git_config) {
      opts.argv.push_back("-c");
      opts.argv.push_back(setting);
    }
    opts.argv.insert(opts.argv.end(), std::make_move_iterator(args.begin()),
                     std::make_move_iterator(args.end()));
    opts.working_dir = workspace_;
    opts.env_allow = options_.env_allow;
    opts.env = {
        // Fail instead of waiting for a password nobody will type.
        {"GIT_TERMINAL_PROMPT", "0"},
        {"GCM_INTERACTIVE", "never"},
        // No ~/.gitconfig or /etc/gitconfig: no credential helpers, no
        // insteadOf rewrites, no hooks from the host.
        {"GIT_CONFIG_NOSYSTEM", "1"},
        {"GIT_CONFIG_GLOBAL", "/dev/null"},
        {"GIT_ALLOW_PROTOCOL", absl::StrJoin(options_.allowed_protocols, ":")},
        // git's messages become error text; keep them in one language.
        {"LC_ALL", "C"},
    };
    opts.timeout = remaining_;
    opts.cancel = request_.cancel;
    if (stream && request_.on_line) {
      opts.on_line = [this](OutputStream, absl::string_view line) {
        request_.on_line(line);
      };
    }
    SHAPIN_ASSIGN_OR_RETURN(SubprocessResult result, RunSubprocess(opts));
    remaining_ -= result.elapsed;
    if (result.canceled) {
      return absl::CancelledError(
          absl::StrCat("fetch of ", request_.sha.str(), " canceled"));
    }
    if (result.timed_out) return TimedOut();
    return result;
  }

  absl::Status TimedOut() const {
    return absl::DeadlineExceededError(absl::StrCat(
        "fetch of ", request_.sha.str(), " from ", RedactUrl(request_.url),
        " did not finish within ", absl::FormatDuration(request_.timeout)));
  }

  const GitSourceFetcher::Options& options_;
  const FetchRequest& request_;
  const std::string workspace_;
  absl::Duration remaining_;
};

// git stores only "executable or not"; the modes a checkout gets come from
// the process umask. Builds copy modes into layers, so pin them to what git
// records (0755 / 0644) to keep digests independent of the host.
absl::Status NormalizeModes(const std::string& work_tree) {
  std::error_code ec;
  constexpr fs::perms kExecutable =
      fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;
  constexpr fs::perms kReadable =
      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
      fs::perms::others_read;
  auto pin = [&](const fs::path& path, bool executable) {
    fs::permissions(path, executable ? kReadable | kExecutable : kReadable,
                    fs::perm_options::replace, ec);
  };
  pin(work_tree, true);
  for (auto it = fs::recursive_directory_iterator(work_tree, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_symlink(status)) continue;  // their mode is not used
    if (fs::is_directory(status)) {
      pin(it->path(), true);
    } else if (fs::is_regular_file(status)) {
      pin(it->path(),
          (status.permissions() & fs::perms::owner_exec) != fs::perms::none);
    }
    if (ec) break;
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("normalize modes in ", work_tree, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status BuildFailure(absl::string_view what,
                          const SubprocessResult& result) {
  return ShapinError(ErrorCode::kBuildFailure,
                     absl::StrCat(what, ": ", ReasonOf(result)));
}

// True when the object database has `sha` as a commit.
absl::StatusOr<bool> HasCommit(GitSession& git, const GitSha& sha) {
  SHAPIN_ASSIGN_OR_RETURN(
      SubprocessResult result,
      git.Run({"cat-file", "-e", absl::StrCat(sha.str(), "^{commit}")},
              /*stream=*/false));
  return result.ok();
}

}  // namespace

absl::StatusOr<FetchedSource> GitSourceFetcher::Fetch(
    const FetchRequest& request) {
  SHAPIN_RETURN_IF_ERROR(ValidateUrl(request.url, options_.allowed_protocols));
  SHAPIN_ASSIGN_OR_RETURN(std::string workspace,
                          PrepareWorkspace(request.workspace_dir));
  const std::string& sha = request.sha.str();
  const std::string url = RedactUrl(request.url);
  GitSession git(options_, request, workspace);

  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult init, git.Init());
  if (!init.ok()) return BuildFailure("git init", init);

  // One commit, no history, no tags: the cheapest way to get exactly `sha`.
  // "--" keeps git from reading the URL as an option.
  git.Note(absl::StrCat("fetching ", sha, " from ", url));
  SHAPIN_ASSIGN_OR_RETURN(
      SubprocessResult shallow,
      git.Run({"fetch", "--depth", "1", "--no-tags", "--no-recurse-submodules",
               "--", request.url, sha},
              true));
  if (!shallow.ok()) {
    // Servers that only serve advertised refs (protocol v0/v1 without
    // uploadpack.allowReachableSHA1InWant) refuse this; a commit that does not
    // exist fails the same way. Fetching every ref tells the two apart.
    const std::string refused = ReasonOf(shallow);
    git.Note(absl::StrCat("fetch by sha refused (", refused,
                          "); fetching all refs of ", url));
    SHAPIN_ASSIGN_OR_RETURN(
        SubprocessResult full,
        git.Run({"fetch", "--no-tags", "--no-recurse-submodules", "--",
                 request.url, "+refs/*:refs/shapin-fetch/*"},
                true));
    if (!full.ok()) {
      return BuildFailure(absl::StrCat("fetch ", url), full);
    }
    SHAPIN_ASSIGN_OR_RETURN(bool found, HasCommit(git, request.sha));
    if (!found) {
      return ShapinError(
          ErrorCode::kBuildFailure,
          absl::StrCat("commit ", sha, " not found in ", url, ": ", refused));
    }
  }

  std::error_code ec;
  fs::create_directory(git.work_tree(), ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("create ", git.work_tree(), ": ", ec.message()));
  }
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult checkout,
                          git.Run({"-c", "advice.detachedHead=false",
                                   "checkout", "-q", "--detach", sha, "--"},
                                  true));
  if (!checkout.ok()) {
    return BuildFailure(absl::StrCat("checkout ", sha), checkout);
  }
  SHAPIN_RETURN_IF_ERROR(NormalizeModes(git.work_tree()));

  // The checkout is what gets built, so check it rather than trust the steps.
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult head,
                          git.Run({"rev-parse", "--verify", "HEAD"}, false));
  if (!head.ok()) return BuildFailure("git rev-parse HEAD", head);
  absl::string_view head_sha = absl::StripAsciiWhitespace(head.stdout_data);
  if (head_sha != sha) {
    return ShapinError(ErrorCode::kBuildFailure,
                       absl::StrCat("checkout of ", sha, " from ", url,
                                    " has HEAD ", head_sha));
  }

  SHAPIN_ASSIGN_OR_RETURN(
      SubprocessResult show,
      git.Run({"show", "-s", "--format=%ct", sha, "--"}, false));
  if (!show.ok()) return BuildFailure("git show commit time", show);
  int64_t epoch_seconds = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(show.stdout_data),
                        &epoch_seconds)) {
    return absl::InternalError(
        absl::StrCat("git show -s --format=%ct ", sha, ": unexpected output '",
                     absl::StripAsciiWhitespace(show.stdout_data), "'"));
  }

  return FetchedSource{.checkout_dir = git.work_tree(),
                       .sha = request.sha,
                       .commit_time = absl::FromUnixSeconds(epoch_seconds)};
}

}  // namespace shapin

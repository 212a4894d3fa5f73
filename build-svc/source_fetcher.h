// SourceFetcher: puts exactly one commit of a repository on local disk.
//
// The build pipeline builds what a git SHA names and nothing else, so a fetch
// either yields a checkout whose HEAD is that SHA or fails; it never falls
// back to a branch tip. The commit time comes along because it is the
// timestamp of the image (reproducible builds).
//
//   FetchRequest request{.url = build.source_url,
//                        .sha = build.git_sha,
//                        .workspace_dir = absl::StrCat(root, "/", build.id)};
//   SHAPIN_ASSIGN_OR_RETURN(FetchedSource src, fetcher.Fetch(request));
//   // src.checkout_dir is the build context; src.commit_time → --timestamp
#ifndef SHAPIN_BUILD_SVC_SOURCE_FETCHER_H_
#define SHAPIN_BUILD_SVC_SOURCE_FETCHER_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/git_sha.h"

namespace shapin {

struct FetchRequest {
  // Repository location handed to the source tool as data, never to a shell.
  // Scheme validation is the caller's (config) job; the fetcher still refuses
  // what its own allow-list does not cover.
  std::string url{};
  GitSha sha;
  // Where the checkout goes. Must not exist yet or be an empty directory; the
  // fetcher creates it. The caller owns it afterwards and removes it, also
  // when Fetch fails (it may hold a partial clone then).
  std::string workspace_dir{};
  // For the whole fetch, all steps together.
  absl::Duration timeout = absl::Minutes(10);
  // When it becomes true the running step is killed and Fetch returns
  // CANCELLED. May be null.
  const std::atomic<bool>* cancel = nullptr;
  // Progress lines of the source tool (stdout and stderr), for build logs.
  // May be empty. Called from the thread that runs Fetch.
  std::function<void(absl::string_view line)> on_line{};
};

struct FetchedSource {
  // Absolute path of the files of `sha`, inside workspace_dir. Holds no
  // .git: a build context sees the commit's files only, and git's own
  // bookkeeping (index timestamps, fetch logs) would make builds that
  // `COPY . .` unreproducible.
  std::string checkout_dir{};
  GitSha sha;
  // Committer time of `sha`, whole seconds.
  absl::Time commit_time{};
};

// Fetches one commit. Implementations are stateless per call and safe to use
// from several threads at once with different workspaces.
class SourceFetcher {
 public:
  virtual ~SourceFetcher() = default;

  // Errors:
  //   INVALID_ARGUMENT  bad url (e.g. starting with '-', disallowed scheme) or
  //                     a non-empty workspace_dir
  //   BUILD_FAILURE     (ABORTED) the repository cannot be fetched, does not
  //                     contain `sha`, or the checkout is not at `sha`; the
  //                     message carries the tool's own reason
  //   DEADLINE_EXCEEDED `timeout` passed
  //   CANCELLED         `cancel` became true
  //   NOT_FOUND/INTERNAL the tool could not be started at all
  virtual absl::StatusOr<FetchedSource> Fetch(const FetchRequest& request) = 0;
};

}  // namespace shapin

#endif  // SHAPIN_BUILD_SVC_SOURCE_FETCHER_H_

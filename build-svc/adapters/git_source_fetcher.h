// GitSourceFetcher: SourceFetcher backed by the git command line.
//
// Steps: `git init --bare <workspace>/git`, `git fetch --depth 1 -- <url>
// <sha>` (one commit, no history), and when the server refuses to serve an
// unadvertised commit, a full fetch of all its refs; then a detached checkout
// into <workspace>/src (a work tree without .git), file modes pinned to what
// git records (0644/0755, whatever the umask), a check that HEAD is the
// requested SHA, and `git show -s --format=%ct` for the commit time.
//
// git runs with a scrubbed environment: no user or system config, no
// credential helpers, no terminal prompts, and only allow-listed transports
// (ext:: and fd:: would run commands), so a URL is data and never code.
//
//   GitSourceFetcher fetcher;  // or GitSourceFetcher({.git_config = {…}})
//   absl::StatusOr<FetchedSource> src = fetcher.Fetch(request);
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_GIT_SOURCE_FETCHER_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_GIT_SOURCE_FETCHER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "build-svc/source_fetcher.h"

namespace shapin {

class GitSourceFetcher : public SourceFetcher {
 public:
  struct Options {
    // "git" is looked up on PATH.
    std::string git_binary = "git";
    // Transports git may use (GIT_ALLOW_PROTOCOL). Never add "ext" or "fd".
    std::vector<std::string> allowed_protocols = {"https", "http", "ssh", "git",
                                                  "file"};
    // Variables copied from this process's environment, e.g. proxies or a
    // CA bundle. Deliberately excludes HOME, so ~/.gitconfig and stored
    // credentials stay out of reach.
    std::vector<std::string> env_allow = {
        "PATH",       "SSL_CERT_FILE", "SSL_CERT_DIR",
        "http_proxy", "https_proxy",   "no_proxy",
        "HTTP_PROXY", "HTTPS_PROXY",   "NO_PROXY"};
    // Extra `git -c key=value` settings applied to every command (e.g.
    // "http.sslCAInfo=/etc/ca.pem"; tests use "protocol.version=0" to make a
    // local server refuse fetches by SHA).
    std::vector<std::string> git_config{};
  };

  GitSourceFetcher() : GitSourceFetcher(Options()) {}
  explicit GitSourceFetcher(Options options) : options_(std::move(options)) {}

  absl::StatusOr<FetchedSource> Fetch(const FetchRequest& request) override;

 private:
  Options options_;
};

}  // namespace shapin

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_GIT_SOURCE_FETCHER_H_

// ImageBuilder: turns a checked-out commit into an OCI image layout on disk.
//
// Every build is clean (FR-017): no layer cache is read or written, base
// images are resolved afresh, and file and config timestamps are pinned to the
// commit time, so building one commit twice gives the same manifest digest.
// That is why BuildRequest has no cache options at all: a cache that a build
// may import can be poisoned by an earlier build, and one it exports outlives
// the build that made it. Neither can be asked for, so no config or request
// can turn them on. The cost is time: every build pulls its base images and
// runs every step (docs/build.md discusses the trade-off).
//
//   BuildRequest request{.context_dir = src.checkout_dir,
//                        .commit_time = src.commit_time,
//                        .output_dir = absl::StrCat(workdir, "/oci")};
//   request.build_args = {{"GIT_SHA", src.sha.str()}};
//   request.on_line = [&](absl::string_view line) { log.Append(line); };
//   SHAPIN_ASSIGN_OR_RETURN(BuiltImage image, builder.Build(request));
//   // image.oci_layout_dir now holds index.json → image.manifest_digest
#ifndef SHAPIN_BUILD_SVC_IMAGE_BUILDER_H_
#define SHAPIN_BUILD_SVC_IMAGE_BUILDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/digest.h"

namespace shapin {

// The only platform shapin builds for (FR-015).
inline constexpr absl::string_view kBuildPlatform = "linux/amd64";

struct BuildRequest {
  // Build context: the checkout of the commit.
  std::string context_dir{};
  // Relative to context_dir; must stay inside it (no absolute path, no "..").
  std::string dockerfile = "Dockerfile";
  // Pinned as the image's creation time and as the mtime of every file in
  // the layers the build adds.
  absl::Time commit_time{};
  // ARG values, e.g. {"GIT_SHA", "3f2a…"}. Names are [A-Za-z_][A-Za-z0-9_]*;
  // values are passed as data, never through a shell.
  std::vector<std::pair<std::string, std::string>> build_args{};
  // Registries ("host" or "host:port") that base images may be pulled from
  // over plain HTTP or with unverified TLS. Every other registry needs valid
  // TLS.
  std::vector<std::string> insecure_registries{};
  // Where the OCI image layout is written. Must not exist yet; the builder
  // creates it. The caller owns it afterwards (also after a failure, when it
  // may hold a partial layout).
  std::string output_dir{};
  // When set, the image is pushed to this reference instead of written to
  // output_dir: "127.0.0.1:<port>/<name>:<tag>", a plain-HTTP endpoint on
  // loopback (an ImageStream). BuiltImage::oci_layout_dir is then empty.
  std::string push_to{};
  // For the whole build. On expiry the builder and everything it started are
  // killed and Build returns DEADLINE_EXCEEDED.
  absl::Duration timeout = absl::Minutes(30);
  // Polled while building; when it becomes true the build is killed as on
  // timeout and Build returns CANCELLED. May be null.
  const std::atomic<bool>* cancel = nullptr;
  // Every line the builder prints (stdout and stderr), as it is printed, from
  // the thread that runs Build. May be empty.
  std::function<void(absl::string_view line)> on_line{};
};

// A base image the build pulled, as resolved at build time.
struct BaseImage {
  std::string name;  // as written in FROM, after ARG expansion
  Digest digest;     // manifest digest it resolved to
};

struct BuiltImage {
  // == BuildRequest::output_dir. Holds one manifest in index.json. Empty
  // when the image was pushed to BuildRequest::push_to.
  std::string oci_layout_dir{};
  // Digest of the image manifest (what a registry reports after the push).
  Digest manifest_digest;
  // Bytes a registry stores for the image: manifest + config + layers (as
  // compressed in the layout). 0 when pushed (the stream knows it).
  int64_t size_bytes = 0;
  // Time spent pushing to BuildRequest::push_to; zero for a layout.
  absl::Duration push_time = absl::ZeroDuration();
  std::string platform{kBuildPlatform};
  // The final stage's base image when the builder records it; empty for
  // FROM scratch or when unknown.
  std::vector<BaseImage> base_images{};
};

// Builds images. Implementations keep no state between builds (that is the
// point), so one instance may run several builds at once.
class ImageBuilder {
 public:
  virtual ~ImageBuilder() = default;

  // Errors:
  //   INVALID_ARGUMENT  malformed request (dockerfile escaping the context,
  //                     bad build-arg name, existing output_dir, …)
  //   BUILD_FAILURE     (ABORTED) the build itself failed: bad Dockerfile,
  //                     failing RUN step, unreachable base image; the message
  //                     ends with the tail of the builder's error output
  //   DEADLINE_EXCEEDED `timeout` passed
  //   CANCELLED         `cancel` became true
  //   DATA_LOSS         the layout written does not match its own digests
  //   NOT_FOUND/INTERNAL the builder could not be started at all
  virtual absl::StatusOr<BuiltImage> Build(const BuildRequest& request) = 0;
};

}  // namespace shapin

#endif  // SHAPIN_BUILD_SVC_IMAGE_BUILDER_H_

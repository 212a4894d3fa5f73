// BuildahBuilder: ImageBuilder backed by the buildah command line.
//
// Each build gets a storage root of its own in a fresh temporary directory
// (images, layers, buildah's temp files, registries.conf, HOME), removed when
// Build returns, whatever the outcome. Nothing survives from one build to the
// next, which is what makes the build clean; reproducibility comes from
// pinning timestamps to the commit time and dropping the buildah version
// label. The commands:
//
//   buildah --root T/root --runroot T/run --storage-driver vfs
//     --registries-conf T/registries.conf bud --isolation chroot
//     --platform linux/amd64 --no-cache --layers=false --pull=always
//     --timestamp <commit epoch> --identity-label=false
//     [--build-arg K=V]… -f <dockerfile> --iidfile T/iid <context>
//   buildah … push --compression-format gzip --digestfile T/digest <id>
//     oci:<output_dir>
// or, with BuildRequest::push_to (a registry relay on loopback that streams
// the image into the target repository by digest),
//   buildah … push --compression-format gzip --digestfile T/digest
//     --tls-verify=false <id> docker://<push_to>
// (--tls-verify=false on push applies to that loopback destination only).
//
// Plain-HTTP base-image registries are marked `insecure` in the generated
// registries.conf rather than passing --tls-verify=false, which would drop
// TLS verification for every registry the Dockerfile names.
//
//   BuildahBuilder builder;  // or BuildahBuilder({.storage_parent_dir = …})
//   absl::StatusOr<BuiltImage> image = builder.Build(request);
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_BUILDAH_BUILDER_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_BUILDAH_BUILDER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "build-svc/image_builder.h"

namespace shapin {

class BuildahBuilder : public ImageBuilder {
 public:
  struct Options {
    // Looked up on PATH when it has no '/'.
    std::string buildah_binary = "buildah";
    // Parent of the per-build temporary directories. Empty: the system temp
    // directory. With vfs every layer is a full copy, so this needs room for
    // a few times the image's unpacked size.
    std::string storage_parent_dir{};
    // vfs works everywhere (no overlay mounts inside containers); "overlay" is
    // faster where the kernel and privileges allow it.
    std::string storage_driver = "vfs";
    // Registries tried for a FROM name without a registry ("debian:12").
    // Empty: such names are refused, making every base image explicit.
    std::vector<std::string> unqualified_search_registries = {"docker.io"};
    // Credentials for pulling private base images (containers-auth.json);
    // empty: anonymous pulls. The file is read by buildah, never logged.
    std::string auth_file{};
    // Variables copied from this process's environment (proxies, CA bundle).
    // HOME is not among them: buildah gets a HOME inside the build directory
    // so no per-user config or credentials leak in.
    std::vector<std::string> env_allow = {
        "PATH",       "SSL_CERT_FILE", "SSL_CERT_DIR",
        "http_proxy", "https_proxy",   "no_proxy",
        "HTTP_PROXY", "HTTPS_PROXY",   "NO_PROXY"};
    // Between SIGTERM and SIGKILL when a build is timed out or canceled.
    absl::Duration kill_grace = absl::Seconds(5);
  };

  BuildahBuilder() : BuildahBuilder(Options()) {}
  explicit BuildahBuilder(Options options) : options_(std::move(options)) {}

  absl::StatusOr<BuiltImage> Build(const BuildRequest& request) override;

 private:
  Options options_;
};

}  // namespace shapin

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_BUILDAH_BUILDER_H_

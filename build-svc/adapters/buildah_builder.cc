#include "build-svc/adapters/buildah_builder.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "build-svc/adapters/mount_safe_removal.h"
#include "build-svc/adapters/tool_failure_reason.h"
#include "common/error_code.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "nlohmann/json.hpp"

namespace shapin {
namespace {

namespace fs = std::filesystem;

// Layout files are small; anything bigger is not what buildah wrote.
constexpr uintmax_t kMaxJsonBytes = 4 << 20;

constexpr absl::string_view kBaseNameAnnotation =
    "org.opencontainers.image.base.name";
constexpr absl::string_view kBaseDigestAnnotation =
    "org.opencontainers.image.base.digest";

// Image transfer progress, which buildah writes to stderr too; it says
// nothing about why a build failed and would crowd out the reason.
bool IsProgress(absl::string_view line) {
  for (absl::string_view prefix :
       {"Trying to pull ", "Getting image source signatures", "Copying blob ",
        "Copying config ", "Writing manifest to image destination",
        "Storing signatures"}) {
    if (absl::StartsWith(line, prefix)) return true;
  }
  return false;
}

std::string ReasonOf(const SubprocessResult& result) {
  return ToolFailureReason(result, IsProgress);
}

bool IsBuildArgName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

// "host", "host:port", "[::1]:port": written into registries.conf, so only
// characters that cannot break out of a TOML string.
bool IsRegistryHost(absl::string_view host) {
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

absl::StatusOr<std::string> ReadSmallFile(const fs::path& path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": ", ec.message()));
  }
  if (size > kMaxJsonBytes) {
    return absl::DataLossError(
        absl::StrCat(path.string(), " is ", size, " bytes, too large"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return absl::InternalError(absl::StrCat("read ", path.string()));
  return std::move(content).str();
}

absl::Status WriteFile(const fs::path& path, absl::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("write ", path.string()));
  return absl::OkStatus();
}

std::string TomlString(absl::string_view s) {
  return absl::StrCat("\"", s, "\"");
}

std::string RegistriesConf(const std::vector<std::string>& search,
                           const std::vector<std::string>& insecure) {
  std::vector<std::string> quoted;
  for (const std::string& r : search) quoted.push_back(TomlString(r));
  // "enforcing" with at most one search registry resolves short names
  // deterministically and never prompts.
  std::string conf = absl::StrCat("unqualified-search-registries = [",
                                  absl::StrJoin(quoted, ", "),
                                  "]\nshort-name-mode = \"enforcing\"\n");
  for (const std::string& host : insecure) {
    absl::StrAppend(&conf, "\n[[registry]]\nlocation = ", TomlString(host),
                    "\ninsecure = true\n");
  }
  return conf;
}

// The per-build directory: storage root, run root, temp files, HOME and
// registries.conf. Removed on destruction, so every return path cleans up.
class BuildDir {
 public:
  static absl::StatusOr<BuildDir> Create(const std::string& parent) {
    std::error_code ec;
    fs::path base =
        parent.empty() ? fs::temp_directory_path(ec) : fs::path(parent);
    if (ec)
      return absl::InternalError(absl::StrCat("temp dir: ", ec.message()));
    fs::create_directories(base, ec);
    std::string pattern = (base / "shapin-build-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(
          absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
    }
    // Canonical, so the path matches what the kernel reports (mountinfo).
    BuildDir dir(fs::canonical(pattern, ec).string());
    if (ec)
      return absl::InternalError(absl::StrCat(pattern, ": ", ec.message()));
    for (const char* sub :
         {"root", "run", "tmp", "home", "registries.conf.d"}) {
      fs::create_directory(dir.Path(sub), ec);
      if (ec) {
        return absl::InternalError(
            absl::StrCat("create ", dir.Path(sub), ": ", ec.message()));
      }
    }
    return dir;
  }

  BuildDir(BuildDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  BuildDir& operator=(BuildDir&&) = delete;
  ~BuildDir() { Remove(); }

  const std::string& path() const { return path_; }
  std::string Path(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  explicit BuildDir(std::string path) : path_(std::move(path)) {}

  void Remove() {
    if (path_.empty()) return;
    if (absl::Status s = build::RemoveTreeNotThroughMounts(path_); !s.ok()) {
      LogError("build_dir_not_removed",
               {{"dir", path_}, {"reason", s.message()}});
    }
  }

  std::string path_;
};

absl::Status CheckRequest(const BuildRequest& request) {
  std::error_code ec;
  if (request.context_dir.empty() ||
      !fs::is_directory(request.context_dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "build context ", request.context_dir, " is not a directory"));
  }
  fs::path dockerfile = fs::path(request.dockerfile).lexically_normal();
  if (request.dockerfile.empty() || dockerfile.is_absolute() ||
      (!dockerfile.empty() && *dockerfile.begin() == "..")) {
    return absl::InvalidArgumentError(
        absl::StrCat("dockerfile ", request.dockerfile,
                     " must be a relative path inside the build context"));
  }
  for (const auto& [name, value] : request.build_args) {
    if (!IsBuildArgName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "build arg name '", name, "' is not [A-Za-z_][A-Za-z0-9_]*"));
    }
  }
  for (const std::string& host : request.insecure_registries) {
    if (!IsRegistryHost(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("insecure registry '", host, "' is not host[:port]"));
    }
  }
  if (request.output_dir.empty() ||
      request.output_dir.find(':') != std::string::npos) {
    // buildah reads "oci:<dir>:<ref>", so a ':' would split the path.
    return absl::InvalidArgumentError(absl::StrCat(
        "output dir '", request.output_dir, "' is empty or contains ':'"));
  }
  if (!request.push_to.empty() &&
      (!absl::StartsWith(request.push_to, "127.0.0.1:") ||
       request.push_to.find_first_of(" \t\n") != std::string::npos)) {
    // Plain HTTP and no TLS checks: only for an endpoint on this machine.
    return absl::InvalidArgumentError(absl::StrCat(
        "push_to '", request.push_to, "' is not a 127.0.0.1 endpoint"));
  }
  if (fs::exists(request.output_dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("output dir ", request.output_dir, " already exists"));
  }
  if (request.commit_time < absl::UnixEpoch()) {
    return absl::InvalidArgumentError("commit time is before 1970");
  }
  return absl::OkStatus();
}

// The Dockerfile's canonical path, refused when a symlink leads it outside
// the context (buildah would read any file the host lets it).
absl::StatusOr<std::string> ResolveDockerfile(const BuildRequest& request) {
  std::error_code ec;
  fs::path context = fs::canonical(request.context_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "build context ", request.context_dir, ": ", ec.message()));
  }
  fs::path file = fs::weakly_canonical(context / request.dockerfile, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("dockerfile ", request.dockerfile, ": ", ec.message()));
  }
  auto [context_end, unused] =
      std::mismatch(context.begin(), context.end(), file.begin(), file.end());
  if (context_end != context.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dockerfile ", request.dockerfile,
                     " resolves outside the build context"));
  }
  if (!fs::is_regular_file(file, ec)) {
    return ShapinError(ErrorCode::kBuildFailure,
                       absl::StrCat("dockerfile ", request.dockerfile,
                                    " not found in the build context"));
  }
  return file.string();
}

// Reads the layout buildah wrote and checks it against its own digests.
absl::StatusOr<BuiltImage> ReadLayout(const std::string& dir,
                                      const Digest& pushed) {
  const fs::path root(dir);
  SHAPIN_ASSIGN_OR_RETURN(std::string index_text,
                          ReadSmallFile(root / "index.json"));
  nlohmann::json index = nlohmann::json::parse(index_text, nullptr, false);
  if (index.is_discarded() || !index.contains("manifests") ||
      !index["manifests"].is_array() || index["manifests"].size() != 1) {
    return absl::DataLossError(
        absl::StrCat(dir, "/index.json: expected exactly one manifest"));
  }
  const nlohmann::json& entry = index["manifests"][0];
  SHAPIN_ASSIGN_OR_RETURN(Digest listed,
                          Digest::Parse(entry.value("digest", "")));
  if (listed != pushed) {
    return absl::DataLossError(absl::StrCat(dir, "/index.json lists ",
                                            listed.str(), ", buildah pushed ",
                                            pushed.str()));
  }
  SHAPIN_ASSIGN_OR_RETURN(
      std::string manifest_text,
      ReadSmallFile(root / "blobs" / "sha256" / std::string(listed.hex())));
  Digest computed = Digest::OfBytes(manifest_text);
  if (computed != listed) {
    return absl::DataLossError(absl::StrCat("manifest blob of ", listed.str(),
                                            " in ", dir, " hashes to ",
                                            computed.str()));
  }
  nlohmann::json manifest =
      nlohmann::json::parse(manifest_text, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("config") ||
      !manifest.contains("layers") || !manifest["layers"].is_array()) {
    return absl::DataLossError(absl::StrCat("manifest ", listed.str(), " in ",
                                            dir, " is not an image manifest"));
  }

  int64_t size = static_cast<int64_t>(manifest_text.size());
  std::vector<nlohmann::json> descriptors = {manifest["config"]};
  for (const nlohmann::json& layer : manifest["layers"]) {
    descriptors.push_back(layer);
  }
  for (const nlohmann::json& descriptor : descriptors) {
    SHAPIN_ASSIGN_OR_RETURN(Digest blob,
                            Digest::Parse(descriptor.value("digest", "")));
    int64_t blob_size = descriptor.value("size", int64_t{-1});
    std::error_code ec;
    uintmax_t on_disk =
        fs::file_size(root / "blobs" / "sha256" / std::string(blob.hex()), ec);
    if (ec || blob_size < 0 || static_cast<int64_t>(on_disk) != blob_size) {
      return absl::DataLossError(
          absl::StrCat("blob ", blob.str(), " of ", listed.str(), " in ", dir,
                       " is missing or not ", blob_size, " bytes"));
    }
    size += blob_size;
  }

  BuiltImage image{.oci_layout_dir = dir,
                   .manifest_digest = listed,
                   .size_bytes = size,
                   .push_time = absl::ZeroDuration(),
                   .platform = std::string(kBuildPlatform),
                   .base_images = {}};
  // buildah records the final stage's base image as manifest annotations.
  if (manifest.contains("annotations") && manifest["annotations"].is_object()) {
    const nlohmann::json& annotations = manifest["annotations"];
    std::string name = annotations.value(std::string(kBaseNameAnnotation), "");
    absl::StatusOr<Digest> base = Digest::Parse(
        annotations.value(std::string(kBaseDigestAnnotation), ""));
    if (base.ok()) image.base_images.push_back({name, *base});
  }
  return image;
}

}  // namespace

absl::StatusOr<BuiltImage> BuildahBuilder::Build(const BuildRequest& request) {
  SHAPIN_RETURN_IF_ERROR(CheckRequest(request));
  SHAPIN_ASSIGN_OR_RETURN(std::string dockerfile, ResolveDockerfile(request));
  std::error_code ec;
  const std::string output_dir = fs::absolute(request.output_dir, ec).string();
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("output dir ", request.output_dir, ": ", ec.message()));
  }
  fs::create_directories(fs::path(output_dir).parent_path(), ec);
  const std::string context_dir = fs::absolute(request.context_dir).string();

  SHAPIN_ASSIGN_OR_RETURN(BuildDir dir,
                          BuildDir::Create(options_.storage_parent_dir));
  SHAPIN_RETURN_IF_ERROR(
      WriteFile(dir.Path("registries.conf"),
                RegistriesConf(options_.unqualified_search_registries,
                               request.insecure_registries)));

  // Global flags: this build's storage and registry config, nothing shared.
  const std::vector<std::string> global = {
      options_.buildah_binary,
      absl::StrCat("--root=", dir.Path("root")),
      absl::StrCat("--runroot=", dir.Path("run")),
      absl::StrCat("--storage-driver=", options_.storage_driver),
      absl::StrCat("--registries-conf=", dir.Path("registries.conf")),
      absl::StrCat("--registries-conf-dir=", dir.Path("registries.conf.d")),
  };

  absl::Duration remaining = request.timeout;
  auto timed_out = [&](absl::string_view step) {
    return absl::DeadlineExceededError(
        absl::StrCat("build did not finish within ",
                     absl::FormatDuration(request.timeout), " (", step, ")"));
  };
  // Runs one buildah command within the remaining budget; timeout and cancel
  // become errors, any other outcome is for the caller to judge.
  auto run = [&](std::vector<std::string> args,
                 absl::string_view step) -> absl::StatusOr<SubprocessResult> {
    if (remaining <= absl::ZeroDuration()) return timed_out(step);
    SubprocessOptions opts;
    opts.argv = global;
    opts.argv.insert(opts.argv.end(), args.begin(), args.end());
    opts.working_dir = dir.path();
    opts.env_allow = options_.env_allow;
    opts.env = {
        {"HOME", dir.Path("home")},
        // buildah's own temp files (context copies, RUN bundles) land here
        // and go away with the directory.
        {"TMPDIR", dir.Path("tmp")},
        {"LC_ALL", "C"},
    };
    opts.timeout = remaining;
    opts.kill_grace = options_.kill_grace;
    opts.cancel = request.cancel;
    if (request.on_line) {
      opts.on_line = [&request](OutputStream, absl::string_view line) {
        request.on_line(line);
      };
    }
    SHAPIN_ASSIGN_OR_RETURN(SubprocessResult result, RunSubprocess(opts));
    remaining -= result.elapsed;
    if (result.canceled) {
      return absl::CancelledError(absl::StrCat("build canceled during ", step));
    }
    if (result.timed_out) return timed_out(step);
    return result;
  };

  std::vector<std::string> bud = {
      "bud",
      "--isolation=chroot",
      absl::StrCat("--platform=", kBuildPlatform),
      // Clean build (FR-017): no cache read, none written, base images pulled
      // afresh even when present.
      "--no-cache",
      "--layers=false",
      "--pull=always",
      // Reproducibility: created times and file mtimes of the new layers
      // become the commit time; no io.buildah.version label, which would tie
      // the digest to the buildah release.
      absl::StrCat("--timestamp=", absl::ToUnixSeconds(request.commit_time)),
      "--identity-label=false",
      "--format=oci",
      "--rm",
      "--force-rm",
      absl::StrCat("--iidfile=", dir.Path("iid")),
  };
  if (!options_.auth_file.empty()) {
    bud.push_back(absl::StrCat("--authfile=", options_.auth_file));
  }
  for (const auto& [name, value] : request.build_args) {
    bud.push_back(absl::StrCat("--build-arg=", name, "=", value));
  }
  bud.insert(bud.end(),
             {absl::StrCat("--file=", dockerfile), "--", context_dir});

  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult built, run(bud, "buildah bud"));
  if (!built.ok()) {
    return ShapinError(ErrorCode::kBuildFailure,
                       absl::StrCat("buildah bud: ", ReasonOf(built)));
  }
  SHAPIN_ASSIGN_OR_RETURN(std::string iid, ReadSmallFile(dir.Path("iid")));
  iid = std::string(absl::StripAsciiWhitespace(iid));
  if (iid.empty()) {
    return absl::InternalError("buildah bud succeeded but wrote no image id");
  }

  // gzip explicitly: the default could change with containers.conf, and the
  // compressed bytes are part of the manifest digest.
  std::vector<std::string> push = {"push", "--compression-format", "gzip",
                                   "--digestfile", dir.Path("digest")};
  const bool streamed = !request.push_to.empty();
  if (streamed) push.push_back("--tls-verify=false");
  push.push_back(iid);
  push.push_back(streamed ? absl::StrCat("docker://", request.push_to)
                          : absl::StrCat("oci:", output_dir));
  const std::string destination = streamed ? request.push_to : output_dir;
  SHAPIN_ASSIGN_OR_RETURN(SubprocessResult pushed, run(push, "buildah push"));
  if (!pushed.ok()) {
    return ShapinError(
        ErrorCode::kBuildFailure,
        absl::StrCat("buildah push to ", destination, ": ", ReasonOf(pushed)));
  }
  SHAPIN_ASSIGN_OR_RETURN(std::string digest_text,
                          ReadSmallFile(dir.Path("digest")));
  SHAPIN_ASSIGN_OR_RETURN(
      Digest digest, Digest::Parse(absl::StripAsciiWhitespace(digest_text)));
  if (streamed) {
    // The stream checks what arrived; size and base images come from it.
    return BuiltImage{.oci_layout_dir = "",
                      .manifest_digest = digest,
                      .size_bytes = 0,
                      .push_time = pushed.elapsed,
                      .platform = std::string(kBuildPlatform),
                      .base_images = {}};
  }
  return ReadLayout(output_dir, digest);
}

}  // namespace shapin

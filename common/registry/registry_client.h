// RegistryClient: the one place shapin talks to OCI registries
// (distribution API v2), used by build-svc (push) and deploy-svc (resolve,
// read-only).
//
// Every manifest and blob read is hashed while it streams in and compared
// with the requested digest and with Docker-Content-Digest; a difference is
// DIGEST_MISMATCH (DATA_LOSS). Errors name the registry, repository,
// reference and HTTP status; a manifest tag that does not exist is
// MISSING_TAG (NOT_FOUND), anything missing by digest is plain NOT_FOUND, and
// neither is ever confused with auth (UNAUTHENTICATED / PERMISSION_DENIED) or
// availability (UNAVAILABLE, after bounded retries) errors.
//
//   RegistryClientOptions opts;
//   opts.credentials["ghcr.io"] = {"mconstant", pat};
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<RegistryClient> client,
//                           RegistryClient::Create(std::move(opts)));
//   SHAPIN_ASSIGN_OR_RETURN(ImageRef repo,
//                           ImageRef::Parse("ghcr.io/mconstant/app"));
//   SHAPIN_ASSIGN_OR_RETURN(PushResult pushed,
//       client->PushOciLayout("/var/lib/shapin/oci/42", repo, {sha.str()}));
//   SHAPIN_ASSIGN_OR_RETURN(Digest d, client->Resolve(*repo.with_tag(sha)));
#ifndef SHAPIN_COMMON_REGISTRY_REGISTRY_CLIENT_H_
#define SHAPIN_COMMON_REGISTRY_REGISTRY_CLIENT_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/image_ref.h"
#include "common/registry/auth_transport.h"
#include "common/registry/chunk_pool.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"
#include "common/registry/manifest.h"
#include "common/registry/retry_transport.h"

namespace shapin::registry {

class CurlTransport;

// Filled by the service from its configuration.
struct RegistryClientOptions {
  // Keyed by registry host as written in image references ("ghcr.io",
  // "127.0.0.1:5000"; "docker.io" for Docker Hub). Hosts without an entry
  // are used anonymously. Passwords and tokens are never logged.
  absl::flat_hash_map<std::string, Credential> credentials;
  // PEM bundle trusted for TLS; empty: the system bundle.
  std::string ca_file;
  // The name on a registry's TLS certificate when it is reached through
  // another address, keyed by that address "host[:port]" as in image
  // references ("10.0.0.5:5000" -> "registry.internal.example"): SNI, the
  // certificate check and the Host header use the name, the connection goes
  // to the address. Token realms and redirects on other hosts are untouched.
  absl::flat_hash_map<std::string, std::string> tls_server_names;
  // Hosts ("host[:port]") spoken to over plain HTTP. Loopback hosts try
  // HTTPS first and fall back to plain HTTP when the TLS handshake fails;
  // every other host is HTTPS only.
  std::vector<std::string> insecure_hosts;
  // Refuse every write (PUT/POST/PATCH/DELETE) inside the client, before any
  // request is made: PERMISSION_DENIED. deploy-svc runs read-only.
  bool read_only = false;

  absl::Duration connect_timeout = absl::Seconds(10);
  // One attempt of a small request (manifest, HEAD, tag list, upload start).
  absl::Duration request_timeout = absl::Seconds(60);
  // Blob transfers have no total limit; they fail when no progress is made
  // for this long.
  absl::Duration stall_timeout = absl::Seconds(60);
  // The deadline of one public call (Push, Copy, Resolve, ...).
  absl::Duration operation_timeout = absl::Minutes(30);
  RetryPolicy retry;

  // Blobs uploaded (or copied) at the same time.
  int max_parallel_blobs = 4;
  // Blobs up to this size are uploaded in one PUT; larger ones in PATCH
  // chunks of this size. Also the memory held per blob in flight.
  uint64_t chunk_size_bytes = uint64_t{16} << 20;
  // Upload bandwidth per blob transfer, bytes per second; 0: unlimited. For
  // a shared uplink (and for fault tests that need a slow transfer).
  int64_t max_upload_bytes_per_second = 0;
  // Where Copy stages blobs between two registries; empty: the system temp
  // directory.
  std::filesystem::path temp_dir;

  Clock* clock = nullptr;  // default: RealClock
  std::string user_agent = "shapin-registry-client/0.1";
};

struct PushOptions {
  // Other repositories of the same registry that may hold some blobs
  // already: a blob found there is mounted (no upload).
  std::vector<std::string> mount_from;
  // Which top-level manifest of the layout to push, by its
  // "org.opencontainers.image.ref.name" annotation. Empty: the layout must
  // have exactly one.
  std::string ref_name;
};

struct PushResult {
  explicit PushResult(Digest d) : digest(std::move(d)) {}
  Digest digest;  // of the pushed top-level manifest
  std::string media_type;
  int blobs_uploaded = 0;       // sent by us
  int blobs_skipped = 0;        // already in the repository
  int blobs_mounted = 0;        // mounted from another repository
  uint64_t bytes_uploaded = 0;  // bytes sent, re-sent ones included
};

// What a HEAD of a manifest says.
struct ManifestHead {
  std::optional<Digest> digest;  // Docker-Content-Digest, when sent
  std::string media_type;
  int64_t size = -1;
};

// One blob uploaded as its bytes arrive (a builder's stream rather than a
// file): hashed as it is written, sent in PATCHes of one ChunkPool buffer
// each (a chunk cut short resumes from the offset the registry reports),
// committed only when the bytes hash to the digest Commit names.
//
// Receiving and sending overlap: a full chunk is sent on its own thread
// while the next one is filled (at most one send in flight per upload), and
// its buffer goes back to the pool when the send ends. So an upload holds at
// most two buffers, and all uploads of one pool together at most the pool.
// A send's failure is returned by the next Write/WriteFrom/Commit. Not
// thread-safe; one writer.
//
//   SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<BlobUpload> up,
//                           client->StartBlobUpload(repo, pool));
//   while (...) SHAPIN_RETURN_IF_ERROR(up->Write(piece));
//   SHAPIN_ASSIGN_OR_RETURN(uint64_t size, up->Commit(digest));
class BlobUpload {
 public:
  // Fills `room` bytes at `dst` at most; returns how many it placed, 0 at
  // the end of the input.
  using Reader =
      absl::FunctionRef<absl::StatusOr<size_t>(char* dst, size_t room)>;
  // Waits for a send in flight; cancels the session (DELETE) unless it was
  // committed.
  virtual ~BlobUpload() = default;
  virtual absl::Status Write(absl::string_view bytes) = 0;
  // Reads straight into the upload's buffer until `read` returns 0 (no copy
  // in between). A reader's error is returned as it is.
  virtual absl::Status WriteFrom(Reader read) = 0;
  // DIGEST_MISMATCH (session canceled, nothing committed) when the bytes
  // written hash to something else. Returns the blob's size.
  virtual absl::StatusOr<uint64_t> Commit(const Digest& digest) = 0;
  // Bytes written so far.
  virtual uint64_t size() const = 0;
};

class RegistryClient {
 public:
  // INVALID_ARGUMENT for unusable options (unreadable ca_file, ...).
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Create(
      RegistryClientOptions options);
  ~RegistryClient();

  const RegistryClientOptions& options() const { return options_; }

  // GET /v2/ (authenticating if challenged). OK when the registry answers
  // and accepts our credentials (or needs none).
  absl::Status Ping(absl::string_view registry);

  // --- reads --------------------------------------------------------------
  // The digest `ref` points at. By digest: HEAD confirms it exists. By tag:
  // the HEAD's Docker-Content-Digest, or when the registry sends none, a GET
  // whose bytes are hashed. MISSING_TAG (NOT_FOUND) for a missing tag,
  // NOT_FOUND for a missing digest or repository.
  absl::StatusOr<Digest> Resolve(const ImageRef& ref);
  // false exactly when Resolve would be NOT_FOUND; other errors pass.
  absl::StatusOr<bool> Exists(const ImageRef& ref);
  absl::StatusOr<ManifestHead> HeadManifest(const ImageRef& ref);
  // The manifest `ref` names (digest wins over tag), at most
  // kMaxManifestBytes, verified: its sha256 must equal the requested digest
  // and Docker-Content-Digest (DIGEST_MISMATCH otherwise).
  absl::StatusOr<Manifest> GetManifest(const ImageRef& ref);
  // Whether the repository `repo` has blob `digest`.
  absl::StatusOr<bool> BlobExists(const ImageRef& repo, const Digest& digest);
  // Downloads a blob to `path` (created or truncated), verifying digest and
  // (when >= 0) size while streaming. DIGEST_MISMATCH leaves no file.
  absl::Status FetchBlob(const ImageRef& repo, const Digest& digest,
                         int64_t expected_size,
                         const std::filesystem::path& path);
  // All tags of the repository, following Link pagination (`page_size` > 0
  // asks for pages of that size). NOT_FOUND for an unknown repository.
  absl::StatusOr<std::vector<std::string>> ListTags(const ImageRef& repo,
                                                    int page_size = 0);
  // Manifests whose subject is `subject`: the OCI 1.1 referrers API, or,
  // where the registry answers 404 to it (distribution 2.8), the index
  // tagged "sha256-<hex>". Filtered by artifact type when given. Empty
  // when there are none.
  absl::StatusOr<std::vector<Descriptor>> ListReferrers(
      const ImageRef& repo, const Digest& subject,
      absl::string_view artifact_type = "");

  // --- writes (PERMISSION_DENIED in read-only mode, before any request) ----
  // Pushes the OCI layout at `dir` to `repository` (a repository reference;
  // its tag/digest are ignored): blobs in parallel (skipping those present,
  // mounting from options.mount_from), manifests by digest (children of an
  // index first), re-reads the top manifest and verifies it, then creates
  // each of `tags`. A manifest with a subject also gets its referrers
  // fallback tag updated when the registry has no referrers API.
  absl::StatusOr<PushResult> PushOciLayout(const std::filesystem::path& dir,
                                           const ImageRef& repository,
                                           const std::vector<std::string>& tags,
                                           const PushOptions& options = {});
  // Copies the image (or index) `src` to `dst` (a tag or just a repository),
  // between repositories of one registry (blobs mounted) or between
  // registries (blobs staged in temp_dir). Returns the digest, which is the
  // same at both ends.
  absl::StatusOr<Digest> Copy(const ImageRef& src, const ImageRef& dst);
  // PUT of a manifest by `reference` (a tag or its digest); returns its
  // digest. INVALID_ARGUMENT when the bytes are not a manifest of
  // `media_type` or are over kMaxManifestBytes.
  absl::StatusOr<Digest> PutManifest(const ImageRef& repo,
                                     absl::string_view reference,
                                     absl::string_view media_type,
                                     absl::string_view bytes);
  // Uploads the blob in `path` (monolithic or chunked), verifying its digest
  // as it is read; skipped when present, mounted from `mount_from` (a
  // repository of the same registry) where possible. Returns how it got
  // there.
  enum class BlobOutcome { kSkipped, kMounted, kUploaded };
  absl::StatusOr<BlobOutcome> PushBlob(
      const ImageRef& repo, const Descriptor& blob,
      const std::filesystem::path& path,
      const std::vector<std::string>& mount_from = {});
  // Starts an upload session in `repo` for a blob whose bytes are streamed
  // in (see BlobUpload), sent in chunks of pool.chunk_bytes(). The pool must
  // outlive the upload.
  absl::StatusOr<std::unique_ptr<BlobUpload>> StartBlobUpload(
      const ImageRef& repo, ChunkPool& pool);
  // DELETE of a manifest. Only by digest (INVALID_ARGUMENT for a tag-only
  // reference: deleting by tag would delete every tag of the image).
  // UNIMPLEMENTED when the registry has deletion disabled.
  absl::Status DeleteManifest(const ImageRef& ref);

 private:
  class Impl;
  class StreamedBlobUpload;
  explicit RegistryClient(RegistryClientOptions options);

  RegistryClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_REGISTRY_CLIENT_H_

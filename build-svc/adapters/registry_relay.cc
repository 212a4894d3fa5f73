#include "build-svc/adapters/registry_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "civetweb.h"
#include "common/error_code.h"
#include "common/full_stack_call.h"
#include "common/log.h"
#include "common/registry/manifest.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

constexpr absl::string_view kBaseNameAnnotation =
    "org.opencontainers.image.base.name";
constexpr absl::string_view kBaseDigestAnnotation =
    "org.opencontainers.image.base.digest";
// The uploads' buffers (registry::ChunkPool): every blob in flight
// together holds at most kPoolChunks × kChunkBytes, whatever the image size
// or layer count. Each upload fills one chunk while the previous one is sent
// (buildah pushes up to 6 layers at once); a PATCH per 4 MiB costs the
// registry little.
constexpr size_t kChunkBytes = size_t{4} << 20;
constexpr int kPoolChunks = 8;

// A registry-style JSON error answer.
int Reply(mg_connection* conn, int status, absl::string_view code,
          absl::string_view message) {
  std::string body =
      absl::StrCat(R"({"errors":[{"code":")", code, R"(","message":")",
                   absl::CEscape(message), R"("}]})");
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %zu\r\n\r\n",
            status, mg_get_response_code_text(conn, status), body.size());
  mg_write(conn, body.data(), body.size());
  return status;
}

// An answer without a body; `headers` are complete "Name: value\r\n" lines.
int ReplyEmpty(mg_connection* conn, int status, const std::string& headers) {
  mg_printf(conn, "HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\n\r\n", status,
            mg_get_response_code_text(conn, status), headers.c_str());
  return status;
}

// Which registry error a relay failure looks like to the builder.
int ReplyError(mg_connection* conn, const absl::Status& s) {
  if (ErrorCodeOf(s) == ErrorCode::kDigestMismatch) {
    return Reply(conn, 400, "DIGEST_INVALID", s.message());
  }
  return Reply(conn, 502, "UNKNOWN", s.message());
}

std::string RangeHeader(uint64_t size) {
  return absl::StrCat("Range: 0-", size == 0 ? 0 : size - 1, "\r\n");
}

}  // namespace

// One blob on its way: the builder's session id → the registry's session.
struct RegistryRelay::Upload {
  absl::Mutex mu;
  std::unique_ptr<registry::BlobUpload> upstream ABSL_GUARDED_BY(mu);
};

absl::StatusOr<std::unique_ptr<RegistryRelay>> RegistryRelay::Start(
    registry::RegistryClient& client, const ImageRef& repository) {
  unsigned char raw[12];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return absl::InternalError("relay: no random bytes for the token");
  }
  std::string token = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(raw), sizeof(raw)));
  std::unique_ptr<RegistryRelay> relay(new RegistryRelay(
      client, repository.repository_only(), std::move(token)));
  // Threads: one per connection the builder opens (it pushes a few layers at
  // once); blob transfers have no time limit beyond the stall detection of
  // the registry client.
  const char* options[] = {
      "listening_ports",    "127.0.0.1:0", "num_threads", "12",
      "enable_keep_alive",  "yes",         "tcp_nodelay", "1",
      "request_timeout_ms", "3600000",     nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  mg_init_library(0);
  relay->ctx_ = mg_start(&callbacks, nullptr, options);
  if (relay->ctx_ == nullptr) {
    return absl::InternalError("relay: cannot listen on 127.0.0.1");
  }
  mg_server_port ports[1];
  if (mg_get_server_ports(relay->ctx_, 1, ports) < 1 || ports[0].port <= 0) {
    return absl::InternalError("relay: no listening port");
  }
  relay->port_ = ports[0].port;
  mg_set_request_handler(relay->ctx_, "/v2", &RegistryRelay::HandleRequest,
                         relay.get());
  return relay;
}

RegistryRelay::RegistryRelay(registry::RegistryClient& client,
                             ImageRef repository, std::string token)
    : client_(client),
      repository_(std::move(repository)),
      name_(absl::StrCat(token, "/image")),
      pool_(kChunkBytes, kPoolChunks) {}

RegistryRelay::~RegistryRelay() {
  Stop();
  // Upload objects left cancel their sessions as they go.
}

void RegistryRelay::Stop() {
  if (ctx_ == nullptr) return;
  // mg_stop waits for civetweb's master thread, which sees the stop flag only
  // when its poll of the listening socket returns — every 2 s when idle
  // (SOCKET_TIMEOUT_QUANTUM in civetweb 1.15), which was most of a small
  // build's overhead. A connection wakes that poll, so connect until
  // mg_stop returns.
  std::atomic<bool> stopped{false};
  std::thread waker([&stopped, port = port_] {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (!stopped.load()) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) {
        (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        close(fd);
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  mg_stop(ctx_);
  stopped = true;
  waker.join();
  ctx_ = nullptr;
}

std::string RegistryRelay::host() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string RegistryRelay::reference() const {
  return absl::StrCat(host(), "/", name_, ":build");
}

absl::Status RegistryRelay::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

void RegistryRelay::Fail(const absl::Status& s) {
  absl::MutexLock lock(&mu_);
  if (status_.ok()) status_ = s;
}

int RegistryRelay::HandleRequest(mg_connection* conn, void* self) {
  // civetweb's worker stack is 100 KiB; uploads go on upstream through
  // libcurl and TLS (common/full_stack_call.h).
  int status = 500;
  CallOnFullStack(
      [&] { status = static_cast<RegistryRelay*>(self)->Handle(conn); });
  return status;
}

int RegistryRelay::Handle(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const absl::string_view method = info->request_method;
  absl::string_view path = info->local_uri;
  if (path == "/v2" || path == "/v2/") {
    return ReplyEmpty(conn, 200,
                      "Docker-Distribution-API-Version: registry/2.0\r\n");
  }
  const std::string prefix = absl::StrCat("/v2/", name_, "/");
  if (!absl::ConsumePrefix(&path, prefix)) {
    return Reply(conn, 404, "NAME_UNKNOWN", "unknown repository");
  }
  if (absl::ConsumePrefix(&path, "blobs/uploads")) {
    absl::ConsumePrefix(&path, "/");
    if (path.empty() && method == "POST") return StartUpload(conn);
    if (!path.empty() && (method == "PATCH" || method == "PUT")) {
      return ContinueUpload(conn, std::string(path), method == "PUT");
    }
    if (!path.empty() && method == "DELETE") {
      absl::MutexLock lock(&mu_);
      uploads_.erase(std::string(path));
      return ReplyEmpty(conn, 204, "");
    }
  } else if (absl::ConsumePrefix(&path, "blobs/")) {
    if (method == "HEAD" || method == "GET") {
      return HeadBlob(conn, std::string(path));
    }
  } else if (absl::ConsumePrefix(&path, "manifests/")) {
    if (method == "PUT") return PutManifest(conn, std::string(path));
    return Reply(conn, 404, "MANIFEST_UNKNOWN", "push only");
  }
  return Reply(conn, 405, "UNSUPPORTED", "not supported by the build relay");
}

int RegistryRelay::StartUpload(mg_connection* conn) {
  absl::StatusOr<std::unique_ptr<registry::BlobUpload>> upstream =
      client_.StartBlobUpload(repository_, pool_);
  if (!upstream.ok()) {
    Fail(upstream.status());
    return ReplyError(conn, upstream.status());
  }
  auto upload = std::make_shared<Upload>();
  {
    absl::MutexLock lock(&upload->mu);
    upload->upstream = *std::move(upstream);
  }
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    id = absl::StrCat(++next_upload_);
    uploads_[id] = upload;
  }
  return ReplyEmpty(
      conn, 202,
      absl::StrCat("Location: /v2/", name_, "/blobs/uploads/", id, "\r\n",
                   "Docker-Upload-UUID: ", id, "\r\n", RangeHeader(0)));
}

int RegistryRelay::ContinueUpload(mg_connection* conn, const std::string& id,
                                  bool commit) {
  std::shared_ptr<Upload> upload;
  {
    absl::MutexLock lock(&mu_);
    auto it = uploads_.find(id);
    if (it != uploads_.end()) upload = it->second;
  }
  if (upload == nullptr) {
    return Reply(conn, 404, "BLOB_UPLOAD_UNKNOWN", "unknown upload");
  }
  std::optional<Digest> digest;
  if (commit) {
    const mg_request_info* info = mg_get_request_info(conn);
    char value[160] = {0};
    const char* query = info->query_string == nullptr ? "" : info->query_string;
    int n =
        mg_get_var(query, std::strlen(query), "digest", value, sizeof(value));
    absl::StatusOr<Digest> parsed =
        Digest::Parse(n > 0 ? absl::string_view(value, n) : "");
    if (!parsed.ok()) {
      return Reply(conn, 400, "DIGEST_INVALID", parsed.status().message());
    }
    digest = *parsed;
  }
  absl::MutexLock lock(&upload->mu);
  registry::BlobUpload& up = *upload->upstream;
  // Straight from the builder's connection into the upload's chunk.
  bool cut_off = false;
  absl::Status written =
      up.WriteFrom([&](char* dst, size_t room) -> absl::StatusOr<size_t> {
        int n = mg_read(conn, dst, std::min<size_t>(room, INT32_MAX));
        if (n >= 0) return static_cast<size_t>(n);
        cut_off = true;
        return absl::DataLossError("request body cut off");
      });
  if (cut_off) {
    return Reply(conn, 400, "BLOB_UPLOAD_INVALID", "request body cut off");
  }
  if (!written.ok()) {
    Fail(written);
    return ReplyError(conn, written);
  }
  const std::string location =
      absl::StrCat("Location: /v2/", name_, "/blobs/uploads/", id, "\r\n");
  if (!commit) {
    return ReplyEmpty(conn, 202,
                      absl::StrCat(location, RangeHeader(up.size()),
                                   "Docker-Upload-UUID: ", id, "\r\n"));
  }
  absl::StatusOr<uint64_t> size = up.Commit(*digest);
  if (!size.ok()) {
    Fail(size.status());
    return ReplyError(conn, size.status());
  }
  {
    absl::MutexLock relay_lock(&mu_);
    blobs_[digest->str()] = *size;
    uploads_.erase(id);
  }
  return ReplyEmpty(
      conn, 201,
      absl::StrCat("Location: /v2/", name_, "/blobs/", digest->str(), "\r\n",
                   "Docker-Content-Digest: ", digest->str(), "\r\n"));
}

int RegistryRelay::HeadBlob(mg_connection* conn, const std::string& digest) {
  // Only what came through here counts as present: a builder then sends
  // every other blob, and the relay never vouches for bytes it did not hash.
  std::optional<uint64_t> size;
  {
    absl::MutexLock lock(&mu_);
    auto it = blobs_.find(digest);
    if (it != blobs_.end()) size = it->second;
  }
  if (!size.has_value()) {
    return Reply(conn, 404, "BLOB_UNKNOWN", "not pushed through this relay");
  }
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nDocker-Content-Digest: %s\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: %llu\r\n\r\n",
            digest.c_str(), static_cast<unsigned long long>(*size));
  return 200;
}

int RegistryRelay::PutManifest(mg_connection* conn,
                               const std::string& reference) {
  const char* content_type = mg_get_header(conn, "Content-Type");
  std::string media_type = content_type == nullptr ? "" : content_type;
  std::string bytes;
  std::string buf(64 << 10, '\0');
  while (true) {
    int n = mg_read(conn, buf.data(), buf.size());
    if (n < 0) return Reply(conn, 400, "MANIFEST_INVALID", "body cut off");
    if (n == 0) break;
    bytes.append(buf.data(), n);
    if (bytes.size() > registry::kMaxManifestBytes) {
      return Reply(conn, 413, "SIZE_INVALID", "manifest too large");
    }
  }
  absl::StatusOr<registry::ManifestInfo> info =
      registry::ParseManifest(bytes, media_type);
  if (!info.ok() || info->is_index || !info->config.has_value()) {
    return Reply(conn, 400, "MANIFEST_INVALID",
                 info.ok() ? "not an image manifest" : info.status().message());
  }
  const Digest digest = Digest::OfBytes(bytes);
  if (absl::StartsWith(reference, "sha256:") && reference != digest.str()) {
    return Reply(conn, 400, "DIGEST_INVALID", "manifest digest differs");
  }
  // Every blob it names must be in the repository (sent through here, or
  // there already); the registry checks too, this names the blob.
  std::vector<registry::Descriptor> blobs = info->layers;
  blobs.push_back(*info->config);
  for (const registry::Descriptor& blob : blobs) {
    {
      absl::MutexLock lock(&mu_);
      if (blobs_.contains(blob.digest.str())) continue;
    }
    absl::StatusOr<bool> there = client_.BlobExists(repository_, blob.digest);
    if (!there.ok() || !*there) {
      absl::Status missing =
          there.ok() ? absl::FailedPreconditionError(absl::StrCat(
                           "manifest ", digest.str(), " names blob ",
                           blob.digest.str(), ", which is not in ",
                           repository_.name()))
                     : there.status();
      Fail(missing);
      return Reply(conn, 400, "MANIFEST_BLOB_UNKNOWN", missing.message());
    }
  }
  // By digest: a tag is the pipeline's to write, after verification.
  absl::StatusOr<Digest> put =
      client_.PutManifest(repository_, digest.str(), info->media_type, bytes);
  if (!put.ok()) {
    Fail(put.status());
    return ReplyError(conn, put.status());
  }
  {
    absl::MutexLock lock(&mu_);
    manifests_[digest.str()] = Pushed{std::move(bytes), info->media_type};
  }
  return ReplyEmpty(
      conn, 201,
      absl::StrCat("Location: /v2/", name_, "/manifests/", digest.str(),
                   "\r\nDocker-Content-Digest: ", digest.str(), "\r\n"));
}

absl::StatusOr<StreamedImage> RegistryRelay::Finish(const Digest& digest) {
  // The builder has pushed and exited: nothing more comes in.
  Stop();
  {
    absl::MutexLock lock(&mu_);
    SHAPIN_RETURN_IF_ERROR(status_);
    if (!manifests_.contains(digest.str())) {
      return absl::FailedPreconditionError(
          absl::StrCat("the builder pushed no manifest ", digest.str(),
                       " through the relay to ", repository_.name()));
    }
  }
  // Read back by digest: GetManifest hashes what the registry serves.
  SHAPIN_ASSIGN_OR_RETURN(registry::Manifest served,
                          client_.GetManifest(repository_.with_digest(digest)));
  SHAPIN_ASSIGN_OR_RETURN(
      registry::ManifestInfo info,
      registry::ParseManifest(served.bytes, served.media_type));
  StreamedImage image{.digest = served.digest,
                      .size_bytes = static_cast<int64_t>(served.bytes.size()),
                      .base_images = {}};
  if (info.config.has_value()) image.size_bytes += info.config->size;
  for (const registry::Descriptor& layer : info.layers) {
    image.size_bytes += layer.size;
  }
  // buildah records the final stage's base image as manifest annotations.
  auto name = info.annotations.find(std::string(kBaseNameAnnotation));
  auto base = info.annotations.find(std::string(kBaseDigestAnnotation));
  if (base != info.annotations.end()) {
    absl::StatusOr<Digest> d = Digest::Parse(base->second);
    if (d.ok()) {
      image.base_images.push_back(
          {name != info.annotations.end() ? name->second : "", *d});
    }
  }
  return image;
}

}  // namespace shapin::build

#include "common/registry/registry_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/error_code.h"
#include "common/image_ref.h"
#include "common/log.h"
#include "common/registry/auth_transport.h"
#include "common/registry/curl_transport.h"
#include "common/registry/http.h"
#include "common/registry/manifest.h"
#include "common/registry/oci_layout.h"
#include "common/registry/read_only_transport.h"
#include "common/registry/retry_transport.h"
#include "common/registry/sha256_hasher.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace shapin::registry {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kRefNameAnnotation =
    "org.opencontainers.image.ref.name";
constexpr int kMaxTagPages = 10000;
constexpr int kMaxIndexDepth = 4;
// Marks (inside this file only) an upload the registry no longer knows.
constexpr absl::string_view kSessionLostPayload =
    "shapin.dev/registry/upload-session-lost";

enum class Access { kPull, kPush, kDelete };

std::string Scope(absl::string_view repository, Access access) {
  switch (access) {
    case Access::kPull:
      return absl::StrCat("repository:", repository, ":pull");
    case Access::kPush:
      return absl::StrCat("repository:", repository, ":pull,push");
    case Access::kDelete:
      return absl::StrCat("repository:", repository, ":delete");
  }
  return "";
}

// Same code and payloads (the error code survives), message prefixed.
absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// "MANIFEST_UNKNOWN manifest unknown; ..." from a registry error body, or
// the start of a non-JSON body.
std::string RegistryErrorDetail(const HttpResponse& response) {
  if (response.body.empty()) return "";
  Json j = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> parts;
  if (j.is_object()) {
    auto errors = j.find("errors");
    if (errors != j.end() && errors->is_array()) {
      for (const Json& e : *errors) {
        if (!e.is_object()) continue;
        std::string code = e.value("code", "");
        std::string message = e.value("message", "");
        parts.push_back(absl::StrCat(code, code.empty() ? "" : " ", message));
      }
    }
  }
  std::string detail =
      parts.empty() ? std::string(absl::StripAsciiWhitespace(
                          absl::string_view(response.body).substr(0, 200)))
                    : absl::StrJoin(parts, "; ");
  if (detail.size() > 300) detail = absl::StrCat(detail.substr(0, 300), "…");
  return Logger::Global().Redact(detail);
}

bool BodyHasErrorCode(const HttpResponse& response, absl::string_view code) {
  return absl::StrContains(response.body, absl::StrCat("\"", code, "\""));
}

// Parses a Docker-Content-Digest value; nullopt when absent.
absl::StatusOr<std::optional<Digest>> ContentDigest(
    const HttpResponse& response) {
  std::optional<std::string> value = response.Header("docker-content-digest");
  if (!value.has_value() || value->empty()) return std::nullopt;
  absl::StatusOr<Digest> d = Digest::Parse(*value);
  if (!d.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unusable Docker-Content-Digest \"", *value,
                     "\": ", d.status().message()));
  }
  return std::optional<Digest>(*d);
}

// "<url>; rel="next"" from a Link header, resolved; empty when none.
std::string NextLink(const HttpResponse& response) {
  for (const std::string& link : response.Headers("link")) {
    size_t open = link.find('<');
    size_t close = link.find('>', open);
    if (open == std::string::npos || close == std::string::npos) continue;
    absl::string_view params = absl::string_view(link).substr(close + 1);
    if (!absl::StrContains(params, "rel=\"next\"") &&
        !absl::StrContains(params, "rel=next")) {
      continue;
    }
    return ResolveLocation(response.effective_url,
                           link.substr(open + 1, close - open - 1));
  }
  return "";
}

std::string WithQuery(absl::string_view url, absl::string_view param) {
  return absl::StrCat(url, absl::StrContains(url, '?') ? "&" : "?", param);
}

// Writes a streamed blob to a file descriptor, hashing and size-checking it.
class FileSink : public ResponseSink {
 public:
  FileSink(int fd, int64_t limit) : fd_(fd), limit_(limit) {}

  absl::Status Write(absl::string_view chunk) override {
    if (limit_ >= 0 &&
        static_cast<int64_t>(hasher_.bytes() + chunk.size()) > limit_) {
      return ShapinError(ErrorCode::kDigestMismatch,
                         absl::StrCat("blob is larger than its descriptor's ",
                                      limit_, " bytes"));
    }
    hasher_.Update(chunk);
    while (!chunk.empty()) {
      ssize_t n = ::write(fd_, chunk.data(), chunk.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(
            absl::StrCat("writing blob: ", std::strerror(errno)));
      }
      chunk.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Reset() override {
    hasher_.Reset();
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
      return absl::InternalError(
          absl::StrCat("truncating blob file: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  Sha256Hasher& hasher() { return hasher_; }

 private:
  int fd_;
  int64_t limit_;
  Sha256Hasher hasher_;
};

// Reads exactly `n` bytes at `offset` into `buf`.
absl::Status ReadAt(int fd, uint64_t offset, size_t n, std::string* buf,
                    const std::filesystem::path& path) {
  buf->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd, buf->data() + done, n - done,
                          static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat(path.string(), ": read: ", std::strerror(errno)));
    }
    if (got == 0) {
      return absl::DataLossError(
          absl::StrCat(path.string(), ": file shrank while reading"));
    }
    done += static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

// Runs fn(0..n-1) on up to `threads` threads; stops handing out work after
// the first error and returns it.
absl::Status RunParallel(size_t n, int threads,
                         const std::function<absl::Status(size_t)>& fn) {
  if (n == 0) return absl::OkStatus();
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  absl::Status first_error;
  auto worker = [&] {
    while (true) {
      {
        absl::MutexLock lock(&mu);
        if (!first_error.ok()) return;
      }
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      absl::Status s = fn(i);
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) first_error = std::move(s);
      }
    }
  };
  size_t count = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  std::vector<std::thread> pool;
  for (size_t i = 1; i < count; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return first_error;
}

bool IsForeignLayer(const Descriptor& d) {
  return !d.urls.empty() || absl::StrContains(d.media_type, "foreign") ||
         absl::StrContains(d.media_type, "nondistributable");
}

}  // namespace

// One repository of one registry, within one public call.
struct Target {
  std::string registry;    // as in the image reference
  std::string repository;  // "acme/app"
  std::string base;        // "https://ghcr.io"
  absl::Time deadline;

  std::string Url(absl::string_view path) const {
    return absl::StrCat(base, "/v2/", repository, path);
  }
  std::string Prefix() const { return absl::StrCat("registry ", registry); }
};

class RegistryClient::Impl {
 public:
  Impl(const RegistryClientOptions& options, CurlTransport* curl,
       std::unique_ptr<HttpTransport> stack, Clock* clock)
      : options_(options),
        curl_(curl),
        stack_(std::move(stack)),
        clock_(clock) {}

  absl::Time Deadline() { return clock_->Now() + options_.operation_timeout; }

  absl::StatusOr<std::string> BaseUrl(const std::string& registry,
                                      absl::Time deadline) {
    std::string host =
        registry == "docker.io" ? "registry-1.docker.io" : registry;
    {
      absl::MutexLock lock(&mu_);
      if (auto it = base_urls_.find(host); it != base_urls_.end()) {
        return it->second;
      }
    }
    std::string base = absl::StrCat("https://", host);
    bool cache = true;
    bool insecure =
        std::any_of(options_.insecure_hosts.begin(),
                    options_.insecure_hosts.end(), [&](const std::string& h) {
                      return absl::EqualsIgnoreCase(h, registry) ||
                             absl::EqualsIgnoreCase(h, host);
                    });
    if (insecure) {
      base = absl::StrCat("http://", host);
    } else if (IsLoopbackHost(host) &&
               !options_.tls_server_names.contains(host)) {
      // Loopback: HTTPS when the registry speaks it, else plain HTTP. Not
      // when a TLS server name is configured: the operator said it is TLS,
      // and a failed handshake must stay an error, never a downgrade.
      HttpRequest probe;
      probe.method = "GET";
      probe.url = absl::StrCat(base, "/v2/");
      probe.timeout = options_.request_timeout;
      probe.deadline = deadline;
      absl::StatusOr<HttpResponse> r = curl_->RoundTrip(probe);
      if (!r.ok()) {
        if (IsTlsHandshakeFailure(r.status())) {
          base = absl::StrCat("http://", host);
        } else if (absl::IsUnavailable(r.status()) ||
                   absl::IsDeadlineExceeded(r.status())) {
          cache = false;  // down right now; decide next time
        }
        // Otherwise it speaks TLS (e.g. an untrusted certificate): HTTPS.
      }
    }
    if (cache) {
      absl::MutexLock lock(&mu_);
      base_urls_[host] = base;
    }
    return base;
  }

  absl::StatusOr<Target> MakeTarget(const ImageRef& ref, absl::Time deadline) {
    SHAPIN_ASSIGN_OR_RETURN(std::string base,
                            BaseUrl(ref.registry(), deadline));
    return Target{ref.registry(), ref.repository(), std::move(base), deadline};
  }

  HttpRequest NewRequest(const Target& t, absl::string_view method,
                         std::string url, Access access) {
    HttpRequest req;
    req.method = std::string(method);
    req.url = std::move(url);
    req.scopes = {Scope(t.repository, access)};
    req.timeout = options_.request_timeout;
    req.deadline = t.deadline;
    return req;
  }

  // Transport errors get the registry and operation prepended.
  absl::StatusOr<HttpResponse> Send(const Target& t, const HttpRequest& req,
                                    absl::string_view what) {
    absl::StatusOr<HttpResponse> r = stack_->RoundTrip(req);
    if (!r.ok()) {
      return Annotate(r.status(), absl::StrCat(t.Prefix(), ": ", what));
    }
    return r;
  }

  absl::Status HttpError(const Target& t, absl::string_view what,
                         const HttpResponse& r, bool tag_read = false) {
    std::string detail = RegistryErrorDetail(r);
    std::string msg = absl::StrCat(t.Prefix(), ": ", what, ": HTTP ", r.status,
                                   detail.empty() ? "" : " ", detail);
    switch (r.status) {
      case 401:
        return absl::UnauthenticatedError(msg);
      case 403:
        return absl::PermissionDeniedError(msg);
      case 404:
        if (tag_read) return ShapinError(ErrorCode::kMissingTag, msg);
        return absl::NotFoundError(msg);
      case 400:
        if (BodyHasErrorCode(r, "MANIFEST_BLOB_UNKNOWN") ||
            BodyHasErrorCode(r, "BLOB_UNKNOWN")) {
          return absl::FailedPreconditionError(msg);
        }
        return absl::InvalidArgumentError(msg);
      case 405:
        return absl::UnimplementedError(msg);
      case 409:
      case 416:
        return absl::FailedPreconditionError(msg);
      case 413:
        return absl::ResourceExhaustedError(msg);
      case 408:
      case 429:
        return absl::UnavailableError(msg);
      default:
        if (r.status >= 500) return absl::UnavailableError(msg);
        return absl::UnknownError(msg);
    }
  }

  // --- manifests -----------------------------------------------------------

  static std::string RefText(const Target& t, absl::string_view reference) {
    bool digest = absl::StartsWith(reference, "sha256:");
    return absl::StrCat(t.repository, digest ? "@" : ":", reference);
  }

  absl::StatusOr<ManifestHead> HeadManifestT(const Target& t,
                                             absl::string_view reference,
                                             bool is_tag) {
    std::string what = absl::StrCat("HEAD manifest ", RefText(t, reference));
    HttpRequest req =
        NewRequest(t, "HEAD", t.Url(absl::StrCat("/manifests/", reference)),
                   Access::kPull);
    req.headers.emplace_back("Accept", std::string(kManifestAccept));
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, what));
    if (r.status != 200) return HttpError(t, what, r, is_tag);
    ManifestHead head;
    absl::StatusOr<std::optional<Digest>> d = ContentDigest(r);
    if (!d.ok())
      return Annotate(d.status(), absl::StrCat(t.Prefix(), ": ", what));
    head.digest = *d;
    head.media_type = r.Header("content-type").value_or("");
    if (std::optional<std::string> len = r.Header("content-length")) {
      int64_t n = -1;
      if (absl::SimpleAtoi(*len, &n)) head.size = n;
    }
    return head;
  }

  // GET + verification against `expected` (when known) and the header.
  absl::StatusOr<Manifest> GetManifestT(const Target& t,
                                        absl::string_view reference,
                                        const std::optional<Digest>& expected,
                                        bool is_tag) {
    std::string what = absl::StrCat("GET manifest ", RefText(t, reference));
    HttpRequest req = NewRequest(
        t, "GET", t.Url(absl::StrCat("/manifests/", reference)), Access::kPull);
    req.headers.emplace_back("Accept", std::string(kManifestAccept));
    req.max_body_bytes = kMaxManifestBytes;
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, what));
    if (r.status != 200) return HttpError(t, what, r, is_tag);
    Digest got = Digest::OfBytes(r.body);
    if (expected.has_value() && got != *expected) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": manifest has digest ",
                       got.str(), ", expected ", expected->str()));
    }
    absl::StatusOr<std::optional<Digest>> header = ContentDigest(r);
    if (!header.ok()) {
      return Annotate(header.status(), absl::StrCat(t.Prefix(), ": ", what));
    }
    if (header->has_value() && **header != got) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": manifest has digest ",
                       got.str(), " but Docker-Content-Digest says ",
                       (*header)->str()));
    }
    std::string content_type = r.Header("content-type").value_or("");
    absl::StatusOr<ManifestInfo> info = ParseManifest(r.body, content_type);
    if (!info.ok()) {
      return Annotate(info.status(), absl::StrCat(t.Prefix(), ": ", what));
    }
    return Manifest{std::move(r.body), info->media_type, got};
  }

  struct PutResult {
    Digest digest;
    bool registry_indexed_subject = false;  // OCI-Subject header present
  };

  absl::StatusOr<PutResult> PutManifestT(const Target& t,
                                         absl::string_view reference,
                                         absl::string_view media_type,
                                         absl::string_view bytes) {
    std::string what = absl::StrCat("PUT manifest ", RefText(t, reference));
    if (options_.read_only) return ReadOnlyError(what);
    if (bytes.size() > kMaxManifestBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(t.Prefix(), ": ", what, ": manifest is ", bytes.size(),
                       " bytes, over the ", kMaxManifestBytes, " byte limit"));
    }
    Digest digest = Digest::OfBytes(bytes);
    if (absl::StartsWith(reference, "sha256:") && reference != digest.str()) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": manifest bytes have digest ",
                       digest.str()));
    }
    HttpRequest req = NewRequest(
        t, "PUT", t.Url(absl::StrCat("/manifests/", reference)), Access::kPush);
    req.headers.emplace_back("Content-Type", std::string(media_type));
    req.body = bytes;
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, what));
    if (r.status != 201 && r.status != 200) return HttpError(t, what, r);
    absl::StatusOr<std::optional<Digest>> header = ContentDigest(r);
    if (header.ok() && header->has_value() && **header != digest) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": registry stored digest ",
                       (*header)->str(), ", expected ", digest.str()));
    }
    return PutResult{digest, r.Header("oci-subject").has_value()};
  }

  // Adds `desc` to the "sha256-<hex>" index of its subject (the referrers
  // tag scheme for registries without the referrers API).
  absl::Status UpdateReferrersFallback(const Target& t, const Digest& subject,
                                       const Descriptor& desc) {
    std::string tag = subject.tag_fallback();
    std::vector<Descriptor> entries;
    absl::StatusOr<Manifest> existing =
        GetManifestT(t, tag, std::nullopt, /*is_tag=*/true);
    if (existing.ok()) {
      SHAPIN_ASSIGN_OR_RETURN(
          ManifestInfo info,
          ParseManifest(existing->bytes, existing->media_type));
      entries = std::move(info.manifests);
    } else if (!absl::IsNotFound(existing.status())) {
      return existing.status();
    }
    for (const Descriptor& e : entries) {
      if (e.digest == desc.digest) return absl::OkStatus();
    }
    entries.push_back(desc);
    std::string index = BuildIndexJson(entries);
    return PutManifestT(t, tag, kOciIndexType, index).status();
  }

  // Pushes one manifest by digest and, if it has a subject the registry did
  // not index itself, records it under the fallback tag.
  absl::Status PushManifestByDigest(const Target& t, const Manifest& m) {
    SHAPIN_ASSIGN_OR_RETURN(
        PutResult put, PutManifestT(t, m.digest.str(), m.media_type, m.bytes));
    SHAPIN_ASSIGN_OR_RETURN(ManifestInfo info,
                            ParseManifest(m.bytes, m.media_type));
    if (!info.subject.has_value() || put.registry_indexed_subject) {
      return absl::OkStatus();
    }
    Descriptor desc(m.media_type, m.digest,
                    static_cast<int64_t>(m.bytes.size()));
    desc.artifact_type = !info.artifact_type.empty() ? info.artifact_type
                         : info.config.has_value()   ? info.config->media_type
                                                     : "";
    desc.annotations = info.annotations;
    return UpdateReferrersFallback(t, info.subject->digest, desc);
  }

  // --- blobs ---------------------------------------------------------------

  absl::StatusOr<bool> BlobExistsT(const Target& t, const Digest& digest) {
    std::string what =
        absl::StrCat("HEAD blob ", t.repository, "@", digest.str());
    HttpRequest req = NewRequest(
        t, "HEAD", t.Url(absl::StrCat("/blobs/", digest.str())), Access::kPull);
    req.follow_redirects = true;
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, what));
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    return HttpError(t, what, r);
  }

  absl::Status FetchBlobT(const Target& t, const Digest& digest,
                          int64_t expected_size,
                          const std::filesystem::path& path) {
    std::string what =
        absl::StrCat("GET blob ", t.repository, "@", digest.str());
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::InternalError(absl::StrCat(t.Prefix(), ": ", what, ": ",
                                              path.string(), ": ",
                                              std::strerror(errno)));
    }
    bool keep = false;
    absl::Cleanup close_fd = [&] {
      ::close(fd);
      if (!keep) std::filesystem::remove(path);
    };
    FileSink sink(fd, expected_size);
    HttpRequest req = NewRequest(
        t, "GET", t.Url(absl::StrCat("/blobs/", digest.str())), Access::kPull);
    req.follow_redirects = true;
    req.sink = &sink;
    req.timeout = absl::InfiniteDuration();
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, what));
    if (r.status != 200) return HttpError(t, what, r);
    uint64_t size = sink.hasher().bytes();
    Digest got = sink.hasher().Finish();
    if (got != digest ||
        (expected_size >= 0 && static_cast<int64_t>(size) != expected_size)) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": blob has digest ", got.str(),
                       " and ", size, " bytes, expected ", digest.str(),
                       expected_size >= 0
                           ? absl::StrCat(" and ", expected_size, " bytes")
                           : ""));
    }
    keep = true;
    return absl::OkStatus();
  }

  // POST …/blobs/uploads/ (with mount=&from= when `mount_from` is set).
  // Returns nullopt when the registry mounted the blob (201), else the
  // upload location.
  absl::StatusOr<std::optional<std::string>> StartUpload(
      const Target& t, const Digest& digest, absl::string_view mount_from) {
    std::string what =
        absl::StrCat("POST blob upload ", t.repository, "@", digest.str());
    std::string url = t.Url("/blobs/uploads/");
    HttpRequest req = NewRequest(t, "POST", "", Access::kPush);
    if (!mount_from.empty()) {
      url = absl::StrCat(url, "?mount=", digest.str(),
                         "&from=", QueryEscape(mount_from));
      req.scopes.push_back(Scope(mount_from, Access::kPull));
      what = absl::StrCat(what, " (mount from ", mount_from, ")");
    }
    req.url = url;
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, what));
    if (r.status == 201 && !mount_from.empty()) return std::nullopt;
    if (r.status != 202) return HttpError(t, what, r);
    std::optional<std::string> location = r.Header("location");
    if (!location.has_value() || location->empty()) {
      return absl::UnknownError(
          absl::StrCat(t.Prefix(), ": ", what, ": 202 without a Location"));
    }
    return ResolveLocation(req.url, *location);
  }

  // --- upload sessions -----------------------------------------------------
  //
  // A blob goes up as POST → PATCH chunks → PUT ?digest=. A chunk whose
  // PATCH fails is not simply sent again: the registry may have stored part
  // of it, and distribution appends whatever a PATCH carries. Instead the
  // client asks the registry how much it holds (GET on the upload URL,
  // `Range: 0-<last>`, OCI distribution spec) and sends only the rest. When
  // the registry no longer knows the session (distribution 2.8 invalidates
  // one whose stored size differs from the offset in its `_state` token,
  // i.e. after any PATCH cut short), the session is lost and the blob starts
  // over in a new one — bounded by retry.max_attempts — and a blob is only
  // committed when its bytes hashed to the expected digest.

  struct Session {
    std::string location;
    uint64_t stored = 0;      // bytes the registry acknowledged
    uint64_t wire_bytes = 0;  // bytes sent, re-sent ones included
  };

  static absl::Status SessionLost(const absl::Status& why) {
    absl::Status lost = why;
    lost.SetPayload(kSessionLostPayload, absl::Cord("1"));
    return lost;
  }
  static bool IsSessionLost(const absl::Status& s) {
    return s.GetPayload(kSessionLostPayload).has_value();
  }
  static absl::Status WithoutSessionLost(absl::Status s) {
    s.ErasePayload(kSessionLostPayload);
    return s;
  }

  // The wait before the n-th (0-based) resume or restart of an upload.
  absl::Duration UploadBackoff(int n) const {
    absl::Duration d = options_.retry.initial_backoff;
    for (int i = 0; i < n && d < options_.retry.max_backoff; ++i) {
      d = d * options_.retry.multiplier;
    }
    return std::min(d, options_.retry.max_backoff);
  }

  // Sleeps before the n-th resume; false when that would pass the deadline.
  bool WaitBeforeResume(const Target& t, int n) {
    absl::Duration wait = UploadBackoff(n);
    if (clock_->Now() + wait >= t.deadline) return false;
    clock_->Sleep(wait);
    return true;
  }

  // The number of bytes the registry holds, from a `Range: 0-<last>` header;
  // nullopt without one. "0-0" counts as nothing held (distribution sends it
  // for an empty upload); a byte too few only means it is sent again.
  static std::optional<uint64_t> HeldBytes(const HttpResponse& r) {
    std::optional<std::string> range = r.Header("range");
    if (!range.has_value()) return std::nullopt;
    absl::string_view v = *range;
    absl::ConsumePrefix(&v, "bytes=");
    size_t dash = v.find('-');
    uint64_t first = 0, last = 0;
    if (dash == absl::string_view::npos ||
        !absl::SimpleAtoi(v.substr(0, dash), &first) ||
        !absl::SimpleAtoi(v.substr(dash + 1), &last) || first != 0) {
      return std::nullopt;
    }
    return last == 0 ? 0 : last + 1;
  }

  static bool SaysSessionUnknown(const HttpResponse& r) {
    return r.status == 404 || BodyHasErrorCode(r, "BLOB_UPLOAD_UNKNOWN") ||
           BodyHasErrorCode(r, "BLOB_UPLOAD_INVALID");
  }

  // GET on the upload URL: how many bytes the registry holds. Session lost
  // when it no longer knows the upload.
  absl::StatusOr<uint64_t> UploadOffset(const Target& t, Session& s,
                                        absl::string_view what) {
    std::string step = absl::StrCat(what, " (upload status)");
    HttpRequest req = NewRequest(t, "GET", s.location, Access::kPush);
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, Send(t, req, step));
    if (r.status != 204 && r.status != 200) {
      absl::Status err = HttpError(t, step, r);
      return SaysSessionUnknown(r) ? SessionLost(err) : err;
    }
    if (std::optional<std::string> loc = r.Header("location")) {
      s.location = ResolveLocation(s.location, *loc);
    }
    return HeldBytes(r).value_or(0);
  }

  // Sends `bytes`, the blob's next bytes from s.stored on, as one PATCH;
  // after a failed attempt, resumes from what the registry says it holds.
  absl::Status SendChunk(const Target& t, Session& s, absl::string_view bytes,
                         absl::string_view what) {
    const uint64_t start = s.stored;
    const uint64_t end = start + bytes.size();
    uint64_t from = start;
    const int max_attempts = std::max(1, options_.retry.max_attempts);
    for (int attempt = 1;; ++attempt) {
      absl::string_view rest = bytes.substr(from - start);
      std::string step = absl::StrCat(what, " (PATCH at ", from, ")");
      HttpRequest req = NewRequest(t, "PATCH", s.location, Access::kPush);
      req.headers.emplace_back("Content-Type", "application/octet-stream");
      req.headers.emplace_back("Content-Range",
                               absl::StrCat(from, "-", end - 1));
      req.body = rest;
      req.timeout = absl::InfiniteDuration();
      req.retry = false;  // resumed below, from the registry's offset
      absl::StatusOr<HttpResponse> r = Send(t, req, step);
      s.wire_bytes += rest.size();
      absl::Status failure;
      if (r.ok() && r->status == 202) {
        if (std::optional<std::string> loc = r->Header("location")) {
          s.location = ResolveLocation(s.location, *loc);
        }
        std::optional<uint64_t> held = HeldBytes(*r);
        if (!held.has_value() || *held == end) {
          s.stored = end;
          return absl::OkStatus();
        }
        // Bytes appended twice or lost: this session cannot give the blob.
        return SessionLost(absl::DataLossError(
            absl::StrCat(t.Prefix(), ": ", step, ": the registry holds ", *held,
                         " bytes after a PATCH ending at ", end)));
      }
      if (r.ok()) {
        failure = HttpError(t, step, *r);
        if (SaysSessionUnknown(*r)) return SessionLost(failure);
        if (!IsRetryable(r) && r->status != 416) return failure;
      } else {
        failure = r.status();
        if (!absl::IsUnavailable(failure)) return failure;
      }
      if (attempt >= max_attempts || !WaitBeforeResume(t, attempt - 1)) {
        return failure;
      }
      SHAPIN_ASSIGN_OR_RETURN(uint64_t held, UploadOffset(t, s, what));
      if (held < start || held > end) {
        return SessionLost(absl::DataLossError(absl::StrCat(
            t.Prefix(), ": ", step, ": the registry holds ", held,
            " bytes of the upload, expected ", start, " to ", end)));
      }
      LogWarning("registry_upload_resumed", {{"registry", t.registry},
                                             {"repository", t.repository},
                                             {"offset", held},
                                             {"chunk_start", start},
                                             {"chunk_end", end},
                                             {"attempt", attempt + 1},
                                             {"after", failure.message()}});
      from = held;
      if (from == end) {
        s.stored = end;
        return absl::OkStatus();
      }
    }
  }

  // PUT ?digest= with the blob's last bytes (all of them for a one-request
  // upload). A commit whose answer was lost is found by HEAD.
  absl::Status CommitSession(const Target& t, Session& s, const Digest& digest,
                             absl::string_view last, absl::string_view what) {
    std::string step = absl::StrCat(what, " (commit)");
    HttpRequest put = NewRequest(
        t, "PUT", WithQuery(s.location, absl::StrCat("digest=", digest.str())),
        Access::kPush);
    put.headers.emplace_back("Content-Type", "application/octet-stream");
    put.body = last;
    put.timeout = absl::InfiniteDuration();
    // A retried PUT with bytes would append them twice.
    put.retry = last.empty();
    absl::StatusOr<HttpResponse> r = Send(t, put, step);
    s.wire_bytes += last.size();
    if (r.ok() && (r->status == 201 || r->status == 204)) {
      absl::StatusOr<std::optional<Digest>> header = ContentDigest(*r);
      if (header.ok() && header->has_value() && **header != digest) {
        return ShapinError(
            ErrorCode::kDigestMismatch,
            absl::StrCat(t.Prefix(), ": ", step, ": registry stored digest ",
                         (*header)->str()));
      }
      s.stored += last.size();
      return absl::OkStatus();
    }
    absl::StatusOr<bool> there = BlobExistsT(t, digest);
    if (there.ok() && *there) return absl::OkStatus();
    absl::Status failure = r.ok() ? HttpError(t, step, *r) : r.status();
    if (!r.ok() && !absl::IsUnavailable(failure)) return failure;
    if (r.ok() && !SaysSessionUnknown(*r) && !IsRetryable(r) &&
        !BodyHasErrorCode(*r, "DIGEST_INVALID") &&
        !BodyHasErrorCode(*r, "SIZE_INVALID")) {
      return failure;
    }
    // Cut short, unknown to the registry, or it holds other bytes than
    // were hashed: this session is done for.
    return SessionLost(failure);
  }

  // Streams the file into an upload session and commits it with ?digest=;
  // starts over in a new session (bounded) when the registry loses it.
  // The file is hashed as it is read; a mismatch cancels the session.
  // Returns the bytes sent.
  absl::StatusOr<uint64_t> UploadToSession(const Target& t,
                                           std::string location,
                                           const Descriptor& blob,
                                           const std::filesystem::path& path) {
    std::string what =
        absl::StrCat("upload blob ", t.repository, "@", blob.digest.str());
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      std::string msg = absl::StrCat(t.Prefix(), ": ", what, ": ",
                                     path.string(), ": ", std::strerror(err));
      if (err == ENOENT) return absl::NotFoundError(msg);
      return absl::FailedPreconditionError(msg);
    }
    absl::Cleanup close_fd = [fd] { ::close(fd); };
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      return absl::InternalError(absl::StrCat(
          t.Prefix(), ": ", what, ": fstat: ", std::strerror(errno)));
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (static_cast<int64_t>(size) != blob.size) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": ", path.string(), " has ",
                       size, " bytes, descriptor says ", blob.size));
    }
    uint64_t wire_bytes = 0;
    const int max_sessions = std::max(1, options_.retry.max_attempts);
    for (int session = 1;; ++session) {
      Session s{location};
      absl::Status done = UploadFileOnce(t, s, blob, fd, size, path, what);
      wire_bytes += s.wire_bytes;
      if (done.ok()) return wire_bytes;
      if (!IsSessionLost(done) || session >= max_sessions ||
          !WaitBeforeResume(t, session - 1)) {
        return WithoutSessionLost(std::move(done));
      }
      LogWarning("registry_upload_restarted", {{"registry", t.registry},
                                               {"repository", t.repository},
                                               {"digest", blob.digest.str()},
                                               {"lost_at", s.stored},
                                               {"session", session + 1},
                                               {"after", done.message()}});
      SHAPIN_ASSIGN_OR_RETURN(std::optional<std::string> fresh,
                              StartUpload(t, blob.digest, ""));
      location = *std::move(fresh);
    }
  }

  absl::Status UploadFileOnce(const Target& t, Session& s,
                              const Descriptor& blob, int fd, uint64_t size,
                              const std::filesystem::path& path,
                              absl::string_view what) {
    Sha256Hasher hasher;
    std::string buf;
    uint64_t chunk = std::max<uint64_t>(1 << 20, options_.chunk_size_bytes);
    if (size > chunk) {
      for (uint64_t offset = 0; offset < size;) {
        size_t n = static_cast<size_t>(std::min(chunk, size - offset));
        SHAPIN_RETURN_IF_ERROR(ReadAt(fd, offset, n, &buf, path));
        hasher.Update(buf);
        SHAPIN_RETURN_IF_ERROR(SendChunk(t, s, buf, what));
        offset += n;
      }
      buf.clear();
    } else {
      SHAPIN_RETURN_IF_ERROR(ReadAt(fd, 0, size, &buf, path));
      hasher.Update(buf);
    }
    Digest got = hasher.Finish();
    if (got != blob.digest) {
      HttpRequest del = NewRequest(t, "DELETE", s.location, Access::kPush);
      (void)stack_->RoundTrip(del);
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": ", what, ": ", path.string(),
                       " has digest ", got.str()));
    }
    return CommitSession(t, s, got, buf, what);
  }

  // check → (mount) → start → stream → commit.
  absl::StatusOr<BlobOutcome> PushBlobT(
      const Target& t, const Descriptor& blob,
      const std::filesystem::path& path,
      const std::vector<std::string>& mount_from, uint64_t* bytes_sent) {
    if (options_.read_only) {
      return ReadOnlyError(absl::StrCat("upload of blob ", t.repository, "@",
                                        blob.digest.str()));
    }
    SHAPIN_ASSIGN_OR_RETURN(bool exists, BlobExistsT(t, blob.digest));
    if (exists) return BlobOutcome::kSkipped;
    std::string source;
    for (const std::string& from : mount_from) {
      if (from == t.repository) continue;
      Target other = t;
      other.repository = from;
      absl::StatusOr<bool> there = BlobExistsT(other, blob.digest);
      if (there.ok() && *there) {
        source = from;
        break;
      }
    }
    SHAPIN_ASSIGN_OR_RETURN(std::optional<std::string> location,
                            StartUpload(t, blob.digest, source));
    if (!location.has_value()) return BlobOutcome::kMounted;
    SHAPIN_ASSIGN_OR_RETURN(uint64_t sent,
                            UploadToSession(t, *location, blob, path));
    if (bytes_sent != nullptr) *bytes_sent = sent;
    return BlobOutcome::kUploaded;
  }

  // Copies one blob from `src` to `dst`: skip, mount (same registry), or
  // download to a temp file and upload.
  absl::StatusOr<BlobOutcome> CopyBlob(const Target& src, const Target& dst,
                                       const Descriptor& blob) {
    SHAPIN_ASSIGN_OR_RETURN(bool exists, BlobExistsT(dst, blob.digest));
    if (exists) return BlobOutcome::kSkipped;
    std::optional<std::string> location;
    if (src.registry == dst.registry && src.repository != dst.repository) {
      SHAPIN_ASSIGN_OR_RETURN(location,
                              StartUpload(dst, blob.digest, src.repository));
      if (!location.has_value()) return BlobOutcome::kMounted;
    }
    std::filesystem::path dir = options_.temp_dir.empty()
                                    ? std::filesystem::temp_directory_path()
                                    : options_.temp_dir;
    std::string tmpl = (dir / "shapin-blob-XXXXXX").string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("staging blob ", blob.digest.str(), " in ", dir.string(),
                       ": ", std::strerror(errno)));
    }
    ::close(fd);
    std::filesystem::path tmp(tmpl);
    absl::Cleanup remove_tmp = [&] {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
    };
    SHAPIN_RETURN_IF_ERROR(FetchBlobT(src, blob.digest, blob.size, tmp));
    if (!location.has_value()) {
      SHAPIN_ASSIGN_OR_RETURN(location, StartUpload(dst, blob.digest, ""));
    }
    SHAPIN_RETURN_IF_ERROR(UploadToSession(dst, *location, blob, tmp).status());
    return BlobOutcome::kUploaded;
  }

  // --- tree walking --------------------------------------------------------

  // Children first (post-order), so every manifest is pushed after what it
  // refers to; `blobs` collects the distinct non-manifest blobs.
  using ManifestLoader =
      std::function<absl::StatusOr<Manifest>(const Descriptor&)>;

  absl::Status CollectTree(const Manifest& m, const ManifestLoader& load,
                           int depth, std::vector<Manifest>* order,
                           std::vector<Descriptor>* blobs,
                           absl::flat_hash_set<std::string>* seen) {
    if (depth > kMaxIndexDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "manifest ", m.digest.str(), ": indexes nested too deep"));
    }
    if (!seen->insert(m.digest.str()).second) return absl::OkStatus();
    SHAPIN_ASSIGN_OR_RETURN(ManifestInfo info,
                            ParseManifest(m.bytes, m.media_type));
    if (info.is_index) {
      for (const Descriptor& child : info.manifests) {
        SHAPIN_ASSIGN_OR_RETURN(Manifest cm, load(child));
        SHAPIN_RETURN_IF_ERROR(
            CollectTree(cm, load, depth + 1, order, blobs, seen));
      }
    } else {
      std::vector<Descriptor> refs;
      if (info.config.has_value()) refs.push_back(*info.config);
      refs.insert(refs.end(), info.layers.begin(), info.layers.end());
      for (const Descriptor& d : refs) {
        if (IsForeignLayer(d)) continue;
        if (seen->insert(d.digest.str()).second) blobs->push_back(d);
      }
    }
    order->push_back(m);
    return absl::OkStatus();
  }

  // Pushes manifests (post-order) by digest, re-reads the root and verifies
  // it, then tags it.
  absl::Status PublishManifests(const Target& t,
                                const std::vector<Manifest>& order,
                                const std::vector<std::string>& tags) {
    for (const Manifest& m : order) {
      SHAPIN_RETURN_IF_ERROR(PushManifestByDigest(t, m));
    }
    const Manifest& root = order.back();
    SHAPIN_ASSIGN_OR_RETURN(
        Manifest reread,
        GetManifestT(t, root.digest.str(), root.digest, /*is_tag=*/false));
    (void)reread;
    for (const std::string& tag : tags) {
      SHAPIN_ASSIGN_OR_RETURN(
          PutResult put, PutManifestT(t, tag, root.media_type, root.bytes));
      (void)put;
    }
    return absl::OkStatus();
  }

  const RegistryClientOptions& options_;
  CurlTransport* curl_;  // owned by stack_
  std::unique_ptr<HttpTransport> stack_;
  Clock* clock_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> base_urls_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------

RegistryClient::RegistryClient(RegistryClientOptions options)
    : options_(std::move(options)) {}

RegistryClient::~RegistryClient() = default;

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Create(
    RegistryClientOptions options) {
  if (options.clock == nullptr) options.clock = RealClock::Get();
  if (options.max_parallel_blobs < 1) {
    return absl::InvalidArgumentError(
        "registry max_parallel_blobs must be at least 1");
  }
  CurlTransportOptions curl_options;
  curl_options.ca_file = options.ca_file;
  curl_options.tls_server_names = options.tls_server_names;
  curl_options.insecure_hosts = options.insecure_hosts;
  curl_options.connect_timeout = options.connect_timeout;
  curl_options.stall_timeout = options.stall_timeout;
  curl_options.max_send_bytes_per_second = options.max_upload_bytes_per_second;
  curl_options.user_agent = options.user_agent;
  curl_options.clock = options.clock;
  SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<CurlTransport> curl,
                          CurlTransport::Create(std::move(curl_options)));
  CurlTransport* curl_ptr = curl.get();
  std::unique_ptr<HttpTransport> stack = std::make_unique<AuthTransport>(
      std::move(curl), options.credentials, options.clock);
  stack = std::make_unique<RetryTransport>(std::move(stack), options.retry,
                                           options.clock);
  if (options.read_only) {
    stack = std::make_unique<ReadOnlyTransport>(std::move(stack));
  }
  std::unique_ptr<RegistryClient> client(
      new RegistryClient(std::move(options)));
  client->impl_ = std::make_unique<Impl>(
      client->options_, curl_ptr, std::move(stack), client->options_.clock);
  return client;
}

absl::Status RegistryClient::Ping(absl::string_view registry) {
  absl::Time deadline = impl_->Deadline();
  SHAPIN_ASSIGN_OR_RETURN(std::string base,
                          impl_->BaseUrl(std::string(registry), deadline));
  Target t{std::string(registry), "", base, deadline};
  HttpRequest req;
  req.method = "GET";
  req.url = absl::StrCat(base, "/v2/");
  req.timeout = options_.request_timeout;
  req.deadline = deadline;
  SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, impl_->Send(t, req, "GET /v2/"));
  if (r.status != 200) return impl_->HttpError(t, "GET /v2/", r);
  return absl::OkStatus();
}

absl::StatusOr<ManifestHead> RegistryClient::HeadManifest(const ImageRef& ref) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(ref, impl_->Deadline()));
  if (ref.digest().has_value()) {
    return impl_->HeadManifestT(t, ref.digest()->str(), /*is_tag=*/false);
  }
  return impl_->HeadManifestT(t, ref.tag().value_or("latest"),
                              /*is_tag=*/true);
}

absl::StatusOr<Digest> RegistryClient::Resolve(const ImageRef& ref) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(ref, impl_->Deadline()));
  bool by_digest = ref.digest().has_value();
  std::string reference =
      by_digest ? ref.digest()->str() : ref.tag().value_or("latest");
  SHAPIN_ASSIGN_OR_RETURN(ManifestHead head,
                          impl_->HeadManifestT(t, reference, !by_digest));
  if (by_digest) {
    if (head.digest.has_value() && *head.digest != *ref.digest()) {
      return ShapinError(
          ErrorCode::kDigestMismatch,
          absl::StrCat(t.Prefix(), ": HEAD manifest ",
                       Impl::RefText(t, reference),
                       ": Docker-Content-Digest says ", head.digest->str()));
    }
    return *ref.digest();
  }
  if (head.digest.has_value()) return *head.digest;
  // No digest header: fetch and hash.
  SHAPIN_ASSIGN_OR_RETURN(
      Manifest m, impl_->GetManifestT(t, reference, std::nullopt, true));
  return m.digest;
}

absl::StatusOr<bool> RegistryClient::Exists(const ImageRef& ref) {
  absl::StatusOr<Digest> d = Resolve(ref);
  if (d.ok()) return true;
  if (absl::IsNotFound(d.status())) return false;
  return d.status();
}

absl::StatusOr<Manifest> RegistryClient::GetManifest(const ImageRef& ref) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(ref, impl_->Deadline()));
  if (ref.digest().has_value()) {
    return impl_->GetManifestT(t, ref.digest()->str(), ref.digest(), false);
  }
  return impl_->GetManifestT(t, ref.tag().value_or("latest"), std::nullopt,
                             true);
}

absl::StatusOr<bool> RegistryClient::BlobExists(const ImageRef& repo,
                                                const Digest& digest) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  return impl_->BlobExistsT(t, digest);
}

absl::Status RegistryClient::FetchBlob(const ImageRef& repo,
                                       const Digest& digest,
                                       int64_t expected_size,
                                       const std::filesystem::path& path) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  return impl_->FetchBlobT(t, digest, expected_size, path);
}

absl::StatusOr<std::vector<std::string>> RegistryClient::ListTags(
    const ImageRef& repo, int page_size) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  std::string what = absl::StrCat("GET tags of ", t.repository);
  std::string url = t.Url("/tags/list");
  if (page_size > 0) url = absl::StrCat(url, "?n=", page_size);
  std::vector<std::string> tags;
  for (int page = 0; !url.empty(); ++page) {
    if (page >= kMaxTagPages) {
      return absl::ResourceExhaustedError(absl::StrCat(
          t.Prefix(), ": ", what, ": more than ", kMaxTagPages, " pages"));
    }
    if (UrlHost(url) != UrlHost(t.base)) {
      return absl::FailedPreconditionError(
          absl::StrCat(t.Prefix(), ": ", what,
                       ": pagination link to another host ", RedactUrl(url)));
    }
    HttpRequest req = impl_->NewRequest(t, "GET", url, Access::kPull);
    req.max_body_bytes = 16 << 20;
    SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, impl_->Send(t, req, what));
    if (r.status != 200) return impl_->HttpError(t, what, r);
    Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return absl::UnknownError(
          absl::StrCat(t.Prefix(), ": ", what, ": response is not JSON"));
    }
    if (auto it = j.find("tags"); it != j.end() && it->is_array()) {
      for (const Json& tag : *it) {
        if (tag.is_string()) tags.push_back(tag.get<std::string>());
      }
    }
    if (r.effective_url.empty()) r.effective_url = url;
    url = NextLink(r);
  }
  return tags;
}

absl::StatusOr<std::vector<Descriptor>> RegistryClient::ListReferrers(
    const ImageRef& repo, const Digest& subject,
    absl::string_view artifact_type) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  std::string what =
      absl::StrCat("GET referrers of ", t.repository, "@", subject.str());
  std::string url = t.Url(absl::StrCat("/referrers/", subject.str()));
  if (!artifact_type.empty()) {
    url = absl::StrCat(url, "?artifactType=", QueryEscape(artifact_type));
  }
  HttpRequest req = impl_->NewRequest(t, "GET", url, Access::kPull);
  req.headers.emplace_back("Accept", std::string(kOciIndexType));
  req.max_body_bytes = kMaxManifestBytes;
  SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, impl_->Send(t, req, what));
  std::vector<Descriptor> found;
  bool filtered = false;
  if (r.status == 200) {
    SHAPIN_ASSIGN_OR_RETURN(ManifestInfo info,
                            ParseManifest(r.body, kOciIndexType));
    found = std::move(info.manifests);
    filtered = absl::StrContains(r.Header("oci-filters-applied").value_or(""),
                                 "artifactType");
  } else if (r.status == 404) {
    // No referrers API: the "sha256-<hex>" tag scheme.
    absl::StatusOr<Manifest> index = impl_->GetManifestT(
        t, subject.tag_fallback(), std::nullopt, /*is_tag=*/true);
    if (absl::IsNotFound(index.status())) return found;
    if (!index.ok()) return index.status();
    SHAPIN_ASSIGN_OR_RETURN(ManifestInfo info,
                            ParseManifest(index->bytes, index->media_type));
    found = std::move(info.manifests);
  } else {
    return impl_->HttpError(t, what, r);
  }
  if (!artifact_type.empty() && !filtered) {
    std::erase_if(found, [&](const Descriptor& d) {
      return d.artifact_type != artifact_type;
    });
  }
  return found;
}

absl::StatusOr<Digest> RegistryClient::PutManifest(const ImageRef& repo,
                                                   absl::string_view reference,
                                                   absl::string_view media_type,
                                                   absl::string_view bytes) {
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  absl::StatusOr<ManifestInfo> info = ParseManifest(bytes, media_type);
  if (!info.ok() || info->media_type != media_type) {
    return absl::InvalidArgumentError(absl::StrCat(
        t.Prefix(), ": PUT manifest ", Impl::RefText(t, reference),
        ": not a manifest of type ", media_type,
        info.ok() ? "" : absl::StrCat(": ", info.status().message())));
  }
  SHAPIN_ASSIGN_OR_RETURN(Impl::PutResult put,
                          impl_->PutManifestT(t, reference, media_type, bytes));
  return put.digest;
}

absl::StatusOr<RegistryClient::BlobOutcome> RegistryClient::PushBlob(
    const ImageRef& repo, const Descriptor& blob,
    const std::filesystem::path& path,
    const std::vector<std::string>& mount_from) {
  if (options_.read_only) {
    return ReadOnlyError(absl::StrCat("upload of blob ", blob.digest.str()));
  }
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  return impl_->PushBlobT(t, blob, path, mount_from, nullptr);
}

// BlobUpload over one upload session of Impl.
class RegistryClient::StreamedBlobUpload : public BlobUpload {
 public:
  StreamedBlobUpload(Impl* impl, Target t, std::string location,
                     ChunkPool& pool)
      : impl_(impl),
        t_(std::move(t)),
        pool_(pool),
        what_(absl::StrCat("upload blob to ", t_.repository)) {
    s_.location = std::move(location);
  }
  ~StreamedBlobUpload() override {
    (void)JoinSender();
    if (!committed_) {
      HttpRequest del =
          impl_->NewRequest(t_, "DELETE", s_.location, Access::kPush);
      (void)impl_->stack_->RoundTrip(del);
    }
  }

  absl::Status Write(absl::string_view bytes) override {
    return WriteFrom([&](char* dst, size_t room) -> absl::StatusOr<size_t> {
      size_t n = std::min(room, bytes.size());
      std::memcpy(dst, bytes.data(), n);
      bytes.remove_prefix(n);
      return n;
    });
  }

  absl::Status WriteFrom(Reader read) override {
    if (!failed_.ok()) return failed_;
    while (true) {
      if (!fill_) fill_ = pool_.Take();
      SHAPIN_ASSIGN_OR_RETURN(
          size_t n, read(fill_.data() + filled_, fill_.capacity() - filled_));
      if (n == 0) return absl::OkStatus();
      hasher_.Update(absl::string_view(fill_.data() + filled_, n));
      filled_ += n;
      size_ += n;
      if (filled_ == fill_.capacity()) SHAPIN_RETURN_IF_ERROR(SendFull());
    }
  }

  absl::StatusOr<uint64_t> Commit(const Digest& digest) override {
    SHAPIN_RETURN_IF_ERROR(JoinSender());
    std::string what =
        absl::StrCat("upload blob ", t_.repository, "@", digest.str());
    Digest got = hasher_.Finish();
    if (got != digest) {
      failed_ =
          ShapinError(ErrorCode::kDigestMismatch,
                      absl::StrCat(t_.Prefix(), ": ", what, ": the ", size_,
                                   " bytes written have digest ", got.str()));
      return failed_;
    }
    absl::string_view last =
        fill_ ? absl::string_view(fill_.data(), filled_) : "";
    if (s_.stored > 0 && !last.empty()) {
      // Chunked: the rest as a last PATCH, then an empty commit.
      if (absl::Status s = impl_->SendChunk(t_, s_, last, what); !s.ok()) {
        failed_ = Impl::WithoutSessionLost(s);
        return failed_;
      }
      last = "";
    }
    if (absl::Status s = impl_->CommitSession(t_, s_, digest, last, what);
        !s.ok()) {
      failed_ = Impl::WithoutSessionLost(s);
      return failed_;
    }
    committed_ = true;
    fill_ = ChunkPool::Chunk();
    filled_ = 0;
    return size_;
  }

  uint64_t size() const override { return size_; }

 private:
  // Sends the full buffer on a thread (after the previous send ended); the
  // thread returns the buffer to the pool when it is done with it.
  absl::Status SendFull() {
    SHAPIN_RETURN_IF_ERROR(JoinSender());
    sender_ =
        std::thread([this, chunk = std::move(fill_), n = filled_]() mutable {
          send_status_ = impl_->SendChunk(
              t_, s_, absl::string_view(chunk.data(), n), what_);
          chunk = ChunkPool::Chunk();
        });
    fill_ = ChunkPool::Chunk();
    filled_ = 0;
    return absl::OkStatus();
  }

  // Waits for the send in flight, if any; its failure becomes the upload's.
  absl::Status JoinSender() {
    if (sender_.joinable()) sender_.join();
    if (!send_status_.ok() && failed_.ok()) {
      failed_ = Impl::WithoutSessionLost(send_status_);
    }
    return failed_;
  }

  Impl* impl_;
  Target t_;
  ChunkPool& pool_;
  const std::string what_;
  // Written by the sender thread only while one runs (joined before use).
  Impl::Session s_;
  absl::Status send_status_;
  std::thread sender_;
  Sha256Hasher hasher_;
  ChunkPool::Chunk fill_;
  size_t filled_ = 0;
  uint64_t size_ = 0;
  bool committed_ = false;
  absl::Status failed_;
};

absl::StatusOr<std::unique_ptr<BlobUpload>> RegistryClient::StartBlobUpload(
    const ImageRef& repo, ChunkPool& pool) {
  if (options_.read_only) {
    return ReadOnlyError(absl::StrCat("upload of a blob to ", repo.name()));
  }
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(repo, impl_->Deadline()));
  std::string what = absl::StrCat("POST blob upload ", t.repository);
  HttpRequest req =
      impl_->NewRequest(t, "POST", t.Url("/blobs/uploads/"), Access::kPush);
  SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, impl_->Send(t, req, what));
  if (r.status != 202) return impl_->HttpError(t, what, r);
  std::optional<std::string> location = r.Header("location");
  if (!location.has_value() || location->empty()) {
    return absl::UnknownError(
        absl::StrCat(t.Prefix(), ": ", what, ": 202 without a Location"));
  }
  return std::unique_ptr<BlobUpload>(new StreamedBlobUpload(
      impl_.get(), std::move(t), ResolveLocation(req.url, *location), pool));
}

absl::Status RegistryClient::DeleteManifest(const ImageRef& ref) {
  if (!ref.digest().has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("delete of ", ref.ToString(),
                     ": only a reference by digest can be deleted"));
  }
  std::string what = absl::StrCat("DELETE manifest ", ref.repository(), "@",
                                  ref.digest()->str());
  if (options_.read_only) return ReadOnlyError(what);
  SHAPIN_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(ref, impl_->Deadline()));
  HttpRequest req = impl_->NewRequest(
      t, "DELETE", t.Url(absl::StrCat("/manifests/", ref.digest()->str())),
      Access::kDelete);
  SHAPIN_ASSIGN_OR_RETURN(HttpResponse r, impl_->Send(t, req, what));
  if (r.status != 202 && r.status != 200 && r.status != 204) {
    return impl_->HttpError(t, what, r);
  }
  return absl::OkStatus();
}

absl::StatusOr<PushResult> RegistryClient::PushOciLayout(
    const std::filesystem::path& dir, const ImageRef& repository,
    const std::vector<std::string>& tags, const PushOptions& push_options) {
  std::string what =
      absl::StrCat("push of ", dir.string(), " to ", repository.name());
  if (options_.read_only) return ReadOnlyError(what);
  for (const std::string& tag : tags) {
    SHAPIN_RETURN_IF_ERROR(repository.with_tag(tag).status());
  }
  absl::Time started = options_.clock->Now();
  SHAPIN_ASSIGN_OR_RETURN(OciLayout layout, OciLayout::Open(dir));

  // Which top-level manifest.
  std::vector<const Descriptor*> roots;
  for (const Descriptor& d : layout.manifests()) {
    if (push_options.ref_name.empty()) {
      roots.push_back(&d);
      continue;
    }
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it != d.annotations.end() && it->second == push_options.ref_name) {
      roots.push_back(&d);
    }
  }
  if (roots.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": expected exactly one top-level manifest",
        push_options.ref_name.empty()
            ? ""
            : absl::StrCat(" named \"", push_options.ref_name, "\""),
        " in index.json, found ", roots.size()));
  }
  auto load = [&](const Descriptor& d) -> absl::StatusOr<Manifest> {
    SHAPIN_ASSIGN_OR_RETURN(std::string bytes, layout.ReadManifest(d));
    std::string media_type = d.media_type;
    if (media_type.empty()) {
      SHAPIN_ASSIGN_OR_RETURN(ManifestInfo info, ParseManifest(bytes, ""));
      media_type = info.media_type;
    }
    return Manifest{std::move(bytes), media_type, d.digest};
  };
  SHAPIN_ASSIGN_OR_RETURN(Manifest root, load(*roots[0]));
  std::vector<Manifest> order;
  std::vector<Descriptor> blobs;
  absl::flat_hash_set<std::string> seen;
  SHAPIN_RETURN_IF_ERROR(
      impl_->CollectTree(root, load, 0, &order, &blobs, &seen));

  SHAPIN_ASSIGN_OR_RETURN(Target t,
                          impl_->MakeTarget(repository, impl_->Deadline()));
  std::atomic<int> uploaded{0}, skipped{0}, mounted{0};
  std::atomic<uint64_t> bytes{0};
  SHAPIN_RETURN_IF_ERROR(RunParallel(
      blobs.size(), options_.max_parallel_blobs, [&](size_t i) -> absl::Status {
        uint64_t sent = 0;
        SHAPIN_ASSIGN_OR_RETURN(
            BlobOutcome outcome,
            impl_->PushBlobT(t, blobs[i], layout.BlobPath(blobs[i].digest),
                             push_options.mount_from, &sent));
        switch (outcome) {
          case BlobOutcome::kSkipped:
            ++skipped;
            break;
          case BlobOutcome::kMounted:
            ++mounted;
            break;
          case BlobOutcome::kUploaded:
            ++uploaded;
            bytes += sent;
            break;
        }
        return absl::OkStatus();
      }));
  SHAPIN_RETURN_IF_ERROR(impl_->PublishManifests(t, order, tags));

  PushResult result(root.digest);
  result.media_type = root.media_type;
  result.blobs_uploaded = uploaded;
  result.blobs_skipped = skipped;
  result.blobs_mounted = mounted;
  result.bytes_uploaded = bytes;
  LogInfo("registry_push",
          {{"registry", t.registry},
           {"repository", t.repository},
           {"digest", root.digest.str()},
           {"tags", absl::StrJoin(tags, ",")},
           {"blobs_uploaded", result.blobs_uploaded},
           {"blobs_skipped", result.blobs_skipped},
           {"blobs_mounted", result.blobs_mounted},
           {"bytes_uploaded", result.bytes_uploaded},
           {"duration_ms",
            absl::ToInt64Milliseconds(options_.clock->Now() - started)}});
  return result;
}

absl::StatusOr<Digest> RegistryClient::Copy(const ImageRef& src,
                                            const ImageRef& dst) {
  std::string what =
      absl::StrCat("copy of ", src.ToString(), " to ", dst.ToString());
  if (options_.read_only) return ReadOnlyError(what);
  absl::Time deadline = impl_->Deadline();
  SHAPIN_ASSIGN_OR_RETURN(Target s, impl_->MakeTarget(src, deadline));
  SHAPIN_ASSIGN_OR_RETURN(Target d, impl_->MakeTarget(dst, deadline));
  bool by_digest = src.digest().has_value();
  SHAPIN_ASSIGN_OR_RETURN(
      Manifest root,
      impl_->GetManifestT(
          s, by_digest ? src.digest()->str() : src.tag().value_or("latest"),
          src.digest(), !by_digest));
  auto load = [&](const Descriptor& desc) -> absl::StatusOr<Manifest> {
    return impl_->GetManifestT(s, desc.digest.str(), desc.digest, false);
  };
  std::vector<Manifest> order;
  std::vector<Descriptor> blobs;
  absl::flat_hash_set<std::string> seen;
  SHAPIN_RETURN_IF_ERROR(
      impl_->CollectTree(root, load, 0, &order, &blobs, &seen));
  SHAPIN_RETURN_IF_ERROR(RunParallel(
      blobs.size(), options_.max_parallel_blobs, [&](size_t i) -> absl::Status {
        return impl_->CopyBlob(s, d, blobs[i]).status();
      }));
  std::vector<std::string> tags;
  if (dst.tag().has_value()) tags.push_back(*dst.tag());
  SHAPIN_RETURN_IF_ERROR(impl_->PublishManifests(d, order, tags));
  LogInfo("registry_copy", {{"source", src.ToString()},
                            {"destination", dst.ToString()},
                            {"digest", root.digest.str()},
                            {"blobs", blobs.size()}});
  return root.digest;
}

}  // namespace shapin::registry

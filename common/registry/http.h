// The HTTP vocabulary of the registry client: one request, one response, and
// the HttpTransport interface every layer of the transport stack implements.
//
// The stack (outermost first), one small wrapper per file, in the spirit of
// go-containerregistry's pkg/v1/remote/transport:
//
//   ReadOnlyTransport  refuses PUT/POST/PATCH/DELETE before anything is sent
//   RetryTransport     408/429/5xx and connection errors, backoff + jitter
//   AuthTransport      anonymous / basic / bearer challenge, token cache
//   CurlTransport      libcurl, connection reuse, TLS, timeouts
//
//   HttpRequest req;
//   req.method = "GET";
//   req.url = "https://ghcr.io/v2/acme/app/manifests/latest";
//   req.headers.emplace_back("Accept", kManifestAcceptHeader);
//   req.scopes = {"repository:acme/app:pull"};
//   SHAPIN_ASSIGN_OR_RETURN(HttpResponse resp, transport.RoundTrip(req));
//   if (resp.status == 200) ... resp.body ...
#ifndef SHAPIN_COMMON_REGISTRY_HTTP_H_
#define SHAPIN_COMMON_REGISTRY_HTTP_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shapin::registry {

// Receives the body of a 2xx response as it arrives (non-2xx bodies are
// always buffered into HttpResponse::body so errors can be reported).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // An error aborts the transfer; RoundTrip returns that error.
  virtual absl::Status Write(absl::string_view chunk) = 0;
  // Forget everything written so far: called before a retried attempt.
  virtual absl::Status Reset() = 0;
};

struct HttpRequest {
  std::string method = "GET";  // GET HEAD PUT POST PATCH DELETE
  std::string url;
  // Header names as they should be sent. "Authorization" is added by the
  // auth layer; callers do not set it.
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent for PUT, POST and PATCH (may be empty). Not owned: the bytes must
  // stay valid until RoundTrip returns; kept in memory so that a retried
  // attempt sends exactly the same bytes. Requests are cheap to copy.
  absl::string_view body;
  // Token scopes this request needs ("repository:acme/app:pull,push"); the
  // bearer layer asks the token server for these plus the challenge's.
  std::vector<std::string> scopes;
  // When set, a 2xx body goes here instead of HttpResponse::body.
  ResponseSink* sink = nullptr;
  // Buffered bodies larger than this fail the request with
  // RESOURCE_EXHAUSTED (a registry is not trusted to be small).
  size_t max_body_bytes = 4 << 20;
  // Whole-attempt limit. Infinite: only the transport's stall detection
  // (no progress for a while) limits the attempt; used for blob transfers.
  absl::Duration timeout = absl::InfiniteDuration();
  // Deadline of the whole operation this request belongs to: no attempt,
  // retry or backoff goes beyond it (DEADLINE_EXCEEDED).
  absl::Time deadline = absl::InfiniteFuture();
  // Follow redirects (GET/HEAD of blobs: registries redirect to storage).
  // libcurl drops the Authorization header when the host changes.
  bool follow_redirects = false;
  // False: one attempt only, even for a temporary failure; the caller
  // recovers itself (a blob chunk asks the registry how much it stored and
  // sends only the rest, instead of re-sending the same range).
  bool retry = true;
};

struct HttpResponse {
  int status = 0;
  // In arrival order; names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  // Buffered body: always for non-2xx, for 2xx when the request had no sink.
  std::string body;
  // After redirects.
  std::string effective_url;

  // First value of `name` (any case), trimmed; nullopt when absent.
  std::optional<std::string> Header(absl::string_view name) const;
  // All values of `name` (any case), in order.
  std::vector<std::string> Headers(absl::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a response, not an error. Errors mean there is no
  // usable response: UNAVAILABLE (could not connect, reset, attempt timed
  // out), DEADLINE_EXCEEDED (request.deadline passed), FAILED_PRECONDITION
  // (TLS verification failed, plain HTTP to a host not allowed it),
  // PERMISSION_DENIED (a write in read-only mode), RESOURCE_EXHAUSTED (body
  // over max_body_bytes), or whatever the sink returned. Thread-safe.
  virtual absl::StatusOr<HttpResponse> RoundTrip(
      const HttpRequest& request) = 0;
};

// True for PUT, POST, PATCH, DELETE (anything but GET and HEAD).
bool IsWriteMethod(absl::string_view method);

// The URL with every query parameter value replaced by "REDACTED" except
// those in a short allow-list (n, last, digest, mount, from, artifactType,
// service, scope): upload locations and storage redirects carry tokens.
std::string RedactUrl(absl::string_view url);

// "host[:port]" of an absolute http(s) URL; empty when there is none.
std::string UrlHost(absl::string_view url);

// "http" or "https" (lower case) of an absolute URL; empty otherwise.
std::string UrlScheme(absl::string_view url);

// True for "localhost", 127.0.0.0/8 and ::1 (with or without a port).
bool IsLoopbackHost(absl::string_view host);

// Resolves a Location header against the URL of the request it answered
// (absolute, absolute-path, and the rare relative forms).
std::string ResolveLocation(absl::string_view base_url,
                            absl::string_view location);

// Percent-encodes a query parameter value.
std::string QueryEscape(absl::string_view value);

}  // namespace shapin::registry

#endif  // SHAPIN_COMMON_REGISTRY_HTTP_H_

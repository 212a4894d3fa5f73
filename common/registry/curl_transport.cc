#include "common/registry/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/registry/clock.h"
#include "common/registry/http.h"

namespace shapin::registry {
namespace {

constexpr char kCurlCodePayload[] = "type.shapin.dev/registry.curl_code";
// Each idle handle keeps its connection: sized above the 50 concurrent calls
// deploy-svc is expected to serve (issue 9), so a burst does not end in new
// TCP connections (32 left ~8 % of HEADs opening one).
constexpr size_t kMaxIdleHandles = 64;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Everything one transfer's callbacks need.
struct TransferContext {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* handle = nullptr;
  int status = 0;        // of the current response (redirects reset it)
  absl::Status error;    // why a callback aborted the transfer
  size_t body_sent = 0;  // of request->body, when read through ReadCallback
};

// The request body for a request that must not be sent twice: libcurl
// re-sends a request by itself when a reused connection turns out dead, and
// it can only do that by rewinding the body, which SeekCallback refuses.
size_t ReadCallback(char* buffer, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  absl::string_view rest = ctx->request->body.substr(ctx->body_sent);
  size_t n = std::min(rest.size(), size * count);
  std::memcpy(buffer, rest.data(), n);
  ctx->body_sent += n;
  return n;
}

int SeekCallback(void* user, curl_off_t offset, int origin) {
  auto* ctx = static_cast<TransferContext*>(user);
  if (origin == SEEK_SET && offset == 0 && ctx->body_sent == 0) {
    return CURL_SEEKFUNC_OK;
  }
  return CURL_SEEKFUNC_CANTSEEK;
}

size_t HeaderCallback(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  absl::string_view line(data, size * count);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a redirect or a 100 Continue): start over.
    ctx->response->headers.clear();
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(' ', 2));
    int status = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &status)) {
      ctx->status = status;
    }
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return size * count;
  ctx->response->headers.emplace_back(
      absl::AsciiStrToLower(line.substr(0, colon)),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return size * count;
}

size_t WriteCallback(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  size_t n = size * count;
  absl::string_view chunk(data, n);
  bool success = ctx->status >= 200 && ctx->status < 300;
  if (success && ctx->request->sink != nullptr) {
    absl::Status s = ctx->request->sink->Write(chunk);
    if (!s.ok()) {
      ctx->error = std::move(s);
      return 0;
    }
    return n;
  }
  std::string& body = ctx->response->body;
  // Error bodies are only kept for the message: cap them hard.
  size_t cap = success ? ctx->request->max_body_bytes : size_t{64} << 10;
  if (body.size() + n > cap) {
    if (!success) {
      body.append(chunk.data(), cap - body.size());
      return n;  // keep reading, drop the rest
    }
    ctx->error = absl::ResourceExhaustedError(
        absl::StrCat(ctx->request->method, " ", RedactUrl(ctx->request->url),
                     ": response body exceeds ", cap, " bytes"));
    return 0;
  }
  body.append(chunk.data(), chunk.size());
  return n;
}

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

// `url` parsed by libcurl's URL API; null when it is not an absolute URL
// (a relative Location stays as it is).
CurlUrl ParseUrl(const std::string& url) {
  CurlUrl u(curl_url());
  if (u == nullptr ||
      curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return nullptr;
  }
  return u;
}

// A part of `u`, empty when absent; the port with the scheme's default
// filled in, scheme and host in lower case.
std::string UrlPart(CURLU* u, CURLUPart part) {
  char* value = nullptr;
  const unsigned flags = part == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
  if (curl_url_get(u, part, &value, flags) != CURLUE_OK || value == nullptr) {
    return "";
  }
  std::string out(value);
  curl_free(value);
  if (part == CURLUPART_HOST || part == CURLUPART_SCHEME) {
    absl::AsciiStrToLower(&out);
  }
  return out;
}

// `u` (changed in place) with `host` as its host, as a URL; empty when
// libcurl refuses the host.
std::string WithHost(CURLU* u, const std::string& host) {
  if (curl_url_set(u, CURLUPART_HOST, host.c_str(), 0) != CURLUE_OK) {
    return "";
  }
  char* out = nullptr;
  if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK || out == nullptr) {
    return "";
  }
  std::string url(out);
  curl_free(out);
  return url;
}

// OpenSSL's words (through libcurl) for a certificate valid for another
// name: "no alternative certificate subject name matches target host name"
// or "certificate subject name 'x' does not match target host name 'y'".
bool IsNameMismatch(const char* errbuf) {
  return errbuf != nullptr && absl::StrContains(errbuf, "target host name");
}

absl::Status CurlError(const HttpRequest& request, CURLcode code,
                       const char* errbuf, bool deadline_passed,
                       absl::string_view server_name) {
  absl::StatusCode status_code = absl::StatusCode::kUnavailable;
  absl::string_view what = "transfer failed";
  std::string what_text;  // when `what` needs details
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      what = "could not connect";
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      what = "could not resolve host";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      what = "timed out";
      if (deadline_passed) status_code = absl::StatusCode::kDeadlineExceeded;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_SEND_FAIL_REWIND:  // died on a reused connection, not re-sent
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      what = "connection broken";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      status_code = absl::StatusCode::kFailedPrecondition;
      if (!server_name.empty()) {
        what_text = absl::StrCat(
            "tls certificate verification failed for server name ", server_name,
            IsNameMismatch(errbuf)
                ? " (the certificate does not match it; check tls_server_name)"
                : "");
      } else if (IsNameMismatch(errbuf)) {
        what_text = absl::StrCat(
            "tls certificate verification failed: the certificate does not "
            "match host ",
            UrlHost(request.url),
            " (when the server is reached through another name or address, "
            "set tls_server_name to the name on its certificate)");
      } else {
        what = "tls certificate verification failed";
      }
      break;
    case CURLE_SSL_CONNECT_ERROR:
      what = "tls handshake failed";
      status_code = absl::StatusCode::kFailedPrecondition;
      if (!server_name.empty()) {
        what_text =
            absl::StrCat("tls handshake failed for server name ", server_name);
      }
      break;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      what = "tls configuration problem";
      status_code = absl::StatusCode::kFailedPrecondition;
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      what = "protocol not allowed";
      status_code = absl::StatusCode::kFailedPrecondition;
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      what = "too many redirects";
      status_code = absl::StatusCode::kFailedPrecondition;
      break;
    default:
      break;
  }
  std::string detail = curl_easy_strerror(code);
  if (errbuf != nullptr && errbuf[0] != '\0') {
    detail = absl::StrCat(detail, ": ", errbuf);
  }
  absl::Status status(
      status_code,
      absl::StrCat(request.method, " ", RedactUrl(request.url), ": ",
                   what_text.empty() ? what : what_text, " (curl ",
                   static_cast<int>(code), " ", detail, ")"));
  status.SetPayload(kCurlCodePayload,
                    absl::Cord(absl::StrCat(static_cast<int>(code))));
  return status;
}

long ToMillis(absl::Duration d) {  // NOLINT(runtime/int): curl's type
  return static_cast<long>(        // NOLINT(runtime/int)
      std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace

// DNS and TLS session caches shared by all handles of one transport.
struct CurlTransport::Shared {
  CURLSH* share = nullptr;
  absl::Mutex locks[CURL_LOCK_DATA_LAST];

  Shared() {
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Shared() { curl_share_cleanup(share); }

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Shared*>(user)->locks[data].Lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Shared*>(user)->locks[data].Unlock();
  }
};

absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(
    CurlTransportOptions options) {
  GlobalInit();
  if (!options.ca_file.empty()) {
    std::FILE* f = std::fopen(options.ca_file.c_str(), "r");
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "registry ca_file ", options.ca_file, ": ", std::strerror(errno)));
    }
    std::fclose(f);
  }
  std::vector<ServerNameRoute> routes;
  for (const auto& [address, server_name] : options.tls_server_names) {
    CurlUrl u = address.find_first_of("/?#@") == std::string::npos
                    ? ParseUrl(absl::StrCat("https://", address))
                    : nullptr;
    if (u == nullptr || UrlPart(u.get(), CURLUPART_HOST).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls server name for \"", address,
                       "\": the address is not host[:port]"));
    }
    ServerNameRoute route{.address_host = UrlPart(u.get(), CURLUPART_HOST),
                          .port = UrlPart(u.get(), CURLUPART_PORT),
                          .server_name = absl::AsciiStrToLower(server_name)};
    // An IP literal or a port has no place in SNI; libcurl vets the rest.
    if (server_name.empty() ||
        server_name.find_first_of(":[]") != std::string::npos ||
        WithHost(u.get(), route.server_name).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls server name \"", server_name, "\" for ", address,
                       " is not a host name"));
    }
    routes.push_back(std::move(route));
  }
  if (options.clock == nullptr) options.clock = RealClock::Get();
  return std::unique_ptr<CurlTransport>(
      new CurlTransport(std::move(options), std::move(routes)));
}

CurlTransport::CurlTransport(CurlTransportOptions options,
                             std::vector<ServerNameRoute> routes)
    : options_(std::move(options)),
      routes_(std::move(routes)),
      shared_(std::make_unique<Shared>()) {}

CurlTransport::~CurlTransport() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
  idle_.clear();
}

void* CurlTransport::AcquireHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::ReleaseHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

bool CurlTransport::PlainHttpAllowed(absl::string_view host) const {
  if (IsLoopbackHost(host)) return true;
  for (const std::string& h : options_.insecure_hosts) {
    if (absl::EqualsIgnoreCase(h, host)) return true;
  }
  return false;
}

const CurlTransport::ServerNameRoute* CurlTransport::RouteFor(
    absl::string_view url, bool* url_names_address) const {
  if (routes_.empty()) return nullptr;
  CurlUrl u = ParseUrl(std::string(url));
  if (u == nullptr || UrlPart(u.get(), CURLUPART_SCHEME) != "https") {
    return nullptr;
  }
  const std::string host = UrlPart(u.get(), CURLUPART_HOST);
  const std::string port = UrlPart(u.get(), CURLUPART_PORT);
  for (const ServerNameRoute& route : routes_) {
    if (route.port != port) continue;
    if (route.address_host == host || route.server_name == host) {
      *url_names_address = route.address_host == host;
      return &route;
    }
  }
  return nullptr;
}

namespace {

// `url` with the route's server name replaced by its address: what the
// server said (Location built from the Host it was sent) in the terms the
// caller used. Other URLs, relative ones included, are returned as they are.
std::string ToAddress(const std::string& url, absl::string_view server_name,
                      absl::string_view address_host, absl::string_view port) {
  CurlUrl u = ParseUrl(url);
  if (u == nullptr || UrlPart(u.get(), CURLUPART_SCHEME) != "https" ||
      UrlPart(u.get(), CURLUPART_HOST) != server_name ||
      UrlPart(u.get(), CURLUPART_PORT) != port) {
    return url;
  }
  std::string mapped = WithHost(u.get(), std::string(address_host));
  return mapped.empty() ? url : mapped;
}

}  // namespace

absl::StatusOr<HttpResponse> CurlTransport::RoundTrip(
    const HttpRequest& request) {
  std::string scheme = UrlScheme(request.url);
  std::string host = UrlHost(request.url);
  if (scheme != "https" && scheme != "http") {
    return absl::InvalidArgumentError(absl::StrCat(
        "registry request url ", RedactUrl(request.url), " is not http(s)"));
  }
  bool plain_ok = PlainHttpAllowed(host);
  if (scheme == "http" && !plain_ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        request.method, " ", RedactUrl(request.url), ": plain http to ", host,
        " is not allowed (not loopback, not in insecure_hosts)"));
  }

  absl::Time now = options_.clock->Now();
  if (now >= request.deadline) {
    return absl::DeadlineExceededError(
        absl::StrCat(request.method, " ", RedactUrl(request.url),
                     ": deadline passed before the request was sent"));
  }
  absl::Duration attempt = std::min(request.timeout, request.deadline - now);

  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(curl);

  HttpResponse response;
  TransferContext ctx;
  ctx.request = &request;
  ctx.response = &response;
  ctx.handle = curl;
  char errbuf[CURL_ERROR_SIZE] = {0};

  // A TLS server name: the URL names the server (SNI, certificate check,
  // Host header), the connection goes to the configured address.
  std::string url = request.url;
  bool url_names_address = false;
  const ServerNameRoute* route = RouteFor(request.url, &url_names_address);
  struct curl_slist* connect_to = nullptr;
  if (route != nullptr) {
    if (url_names_address) {
      CurlUrl u = ParseUrl(request.url);
      url = WithHost(u.get(), route->server_name);
      if (url.empty()) {
        ReleaseHandle(curl);
        return absl::InternalError(
            absl::StrCat("tls server name ", route->server_name, " for ",
                         RedactUrl(request.url), ": cannot rewrite the url"));
      }
    }
    connect_to = curl_slist_append(
        nullptr, absl::StrCat(route->server_name, ":", route->port, ":",
                              route->address_host, ":", route->port)
                     .c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  }

  curl_easy_setopt(curl, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR,
                   plain_ok ? "http,https" : "https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   ToMillis(options_.connect_timeout));
  if (attempt != absl::InfiniteDuration()) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ToMillis(attempt));
  }
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(std::max<int64_t>(  // NOLINT(runtime/int)
                       1, absl::ToInt64Seconds(options_.stall_timeout))));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024L);
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024L * 1024L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (options_.max_send_bytes_per_second > 0) {
    curl_easy_setopt(
        curl, CURLOPT_MAX_SEND_SPEED_LARGE,
        static_cast<curl_off_t>(options_.max_send_bytes_per_second));
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &HeaderCallback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ctx);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ctx);
  if (request.follow_redirects) {
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  }

  bool has_content_type = false;
  struct curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
    headers =
        curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");

  const std::string& method = request.method;
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (method == "DELETE") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    // PUT / POST / PATCH: the body straight from memory.
    if (!has_content_type) {
      headers =
          curl_slist_append(headers, "Content-Type: application/octet-stream");
    }
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    if (request.retry) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    } else {
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadCallback);
      curl_easy_setopt(curl, CURLOPT_READDATA, &ctx);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &SeekCallback);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &ctx);
    }
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_CONNECT_TO, nullptr);
  curl_slist_free_all(connect_to);

  if (code == CURLE_OK) {
    long status = 0;  // NOLINT(runtime/int): curl's type
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    char* effective = nullptr;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
    if (effective != nullptr) response.effective_url = effective;
    if (route != nullptr) {
      response.effective_url =
          ToAddress(response.effective_url, route->server_name,
                    route->address_host, route->port);
      for (auto& [name, value] : response.headers) {
        if (name != "location") continue;
        value = ToAddress(value, route->server_name, route->address_host,
                          route->port);
      }
    }
  }
  // Detach the share and callbacks' data before the handle goes idle.
  curl_easy_setopt(curl, CURLOPT_SHARE, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  ReleaseHandle(curl);

  if (code != CURLE_OK) {
    if (code == CURLE_WRITE_ERROR && !ctx.error.ok()) return ctx.error;
    return CurlError(request, code, errbuf,
                     options_.clock->Now() >= request.deadline,
                     route != nullptr ? route->server_name : "");
  }
  return response;
}

std::optional<int> CurlErrorCodeOf(const absl::Status& status) {
  auto p = status.GetPayload(kCurlCodePayload);
  if (!p.has_value()) return std::nullopt;
  int code = 0;
  if (!absl::SimpleAtoi(std::string(*p), &code)) return std::nullopt;
  return code;
}

bool IsTlsHandshakeFailure(const absl::Status& status) {
  std::optional<int> code = CurlErrorCodeOf(status);
  return code.has_value() && *code == CURLE_SSL_CONNECT_ERROR;
}

}  // namespace shapin::registry

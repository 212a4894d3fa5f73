#include "common/registry/testing/tiny_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace shapin::registry::testing {
namespace {

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads from `fd` into `buf` until it contains "\r\n\r\n"; false on EOF.
bool ReadHead(int fd, std::string* buf, size_t* head_end) {
  while (true) {
    size_t p = buf->find("\r\n\r\n");
    if (p != std::string::npos) {
      *head_end = p + 4;
      return true;
    }
    char tmp[64 << 10];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
  }
}

bool ReadExactly(int fd, std::string* buf, size_t want) {
  while (buf->size() < want) {
    char tmp[256 << 10];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ParseHeaders(
    absl::string_view lines) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view line : absl::StrSplit(lines, "\r\n")) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    out.emplace_back(
        std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return out;
}

std::string FindHeader(
    const std::vector<std::pair<std::string, std::string>>& headers,
    absl::string_view name) {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string TinyHttpRequest::Header(absl::string_view name) const {
  return FindHeader(headers, name);
}

std::vector<std::string> TinyHttpRequest::QueryValues(
    absl::string_view name) const {
  std::vector<std::string> out;
  size_t q = target.find('?');
  if (q == std::string::npos) return out;
  for (absl::string_view kv :
       absl::StrSplit(absl::string_view(target).substr(q + 1), '&')) {
    size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    if (kv.substr(0, eq) == name)
      out.push_back(PercentDecode(kv.substr(eq + 1)));
  }
  return out;
}

absl::StatusOr<int> PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::StatusOr<std::unique_ptr<TinyHttpServer>> TinyHttpServer::Start(
    Handler handler) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 64) != 0) {
    ::close(fd);
    return absl::InternalError(
        absl::StrCat("bind/listen: ", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<TinyHttpServer>(
      new TinyHttpServer(fd, ntohs(addr.sin_port), std::move(handler)));
}

TinyHttpServer::TinyHttpServer(int listen_fd, int port, Handler handler)
    : listen_fd_(listen_fd), port_(port), handler_(std::move(handler)) {
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

TinyHttpServer::~TinyHttpServer() {
  stopping_ = true;
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  std::vector<int> fds;
  {
    absl::MutexLock lock(&mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    threads = std::move(conn_threads_);
    fds = std::move(conn_fds_);
  }
  for (std::thread& t : threads) t.join();
  for (int fd : fds) ::close(fd);
}

std::string TinyHttpServer::host() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void TinyHttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    absl::MutexLock lock(&mu_);
    conn_fds_.push_back(fd);
    conn_threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TinyHttpServer::Serve(int fd) {
  std::string buf;
  while (!stopping_) {
    size_t head_end = 0;
    if (buf.empty()) {
      // A TLS ClientHello on this plain-HTTP server: answer like Go's
      // net/http does (400 in plain text) and hang up.
      char first = 0;
      ssize_t n = ::recv(fd, &first, 1, MSG_PEEK);
      if (n == 1 && first == 0x16) {
        SendAll(fd,
                "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP "
                "request to an HTTPS server.\n");
        break;
      }
    }
    if (!ReadHead(fd, &buf, &head_end)) break;
    absl::string_view head(buf.data(), head_end - 4);
    size_t line_end = head.find("\r\n");
    absl::string_view request_line = head.substr(0, line_end);
    std::vector<std::string> parts = absl::StrSplit(request_line, ' ');
    if (parts.size() < 3) break;
    TinyHttpRequest req;
    req.method = parts[0];
    req.target = parts[1];
    req.headers = ParseHeaders(line_end == absl::string_view::npos
                                   ? absl::string_view()
                                   : head.substr(line_end + 2));
    size_t content_length = 0;
    if (std::string cl = req.Header("Content-Length"); !cl.empty()) {
      if (!absl::SimpleAtoi(cl, &content_length)) break;
    }
    if (!ReadExactly(fd, &buf, head_end + content_length)) break;
    req.body = buf.substr(head_end, content_length);
    buf.erase(0, head_end + content_length);
    ++requests_;

    TinyHttpResponse resp = handler_(req);
    if (resp.status == 0) break;
    std::string out = absl::StrCat("HTTP/1.1 ", resp.status, " ",
                                   ReasonPhrase(resp.status), "\r\n");
    bool has_length = false;
    for (const auto& [k, v] : resp.headers) {
      if (absl::EqualsIgnoreCase(k, "Content-Length")) has_length = true;
      absl::StrAppend(&out, k, ": ", v, "\r\n");
    }
    if (!has_length) {
      absl::StrAppend(&out, "Content-Length: ", resp.body.size(), "\r\n");
    }
    absl::StrAppend(&out, "\r\n");
    if (req.method != "HEAD") out.append(resp.body);
    if (!SendAll(fd, out)) break;
    if (absl::EqualsIgnoreCase(req.Header("Connection"), "close")) break;
  }
  // The fd is closed by the destructor (closing it here could let its
  // number be reused before the destructor's shutdown()).
  ::shutdown(fd, SHUT_RDWR);
}

absl::StatusOr<TinyHttpResponse> ForwardRequest(const TinyHttpRequest& request,
                                                int upstream_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect upstream: ", std::strerror(errno)));
  }
  std::string out =
      absl::StrCat(request.method, " ", request.target, " HTTP/1.0\r\n");
  for (const auto& [k, v] : request.headers) {
    if (absl::EqualsIgnoreCase(k, "Connection") ||
        absl::EqualsIgnoreCase(k, "Content-Length") ||
        absl::EqualsIgnoreCase(k, "Keep-Alive")) {
      continue;
    }
    absl::StrAppend(&out, k, ": ", v, "\r\n");
  }
  absl::StrAppend(&out, "Content-Length: ", request.body.size(),
                  "\r\nConnection: close\r\n\r\n");
  out.append(request.body);
  if (!SendAll(fd, out)) {
    ::close(fd);
    return absl::UnavailableError("send upstream failed");
  }
  std::string in;
  char tmp[256 << 10];
  while (true) {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(tmp, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return absl::UnavailableError("upstream sent no complete response");
  }
  absl::string_view head(in.data(), head_end);
  size_t line_end = head.find("\r\n");
  std::vector<std::string> parts =
      absl::StrSplit(head.substr(0, line_end), absl::MaxSplits(' ', 2));
  TinyHttpResponse resp;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &resp.status)) {
    return absl::UnavailableError("upstream sent a bad status line");
  }
  for (auto& [k, v] : ParseHeaders(line_end == absl::string_view::npos
                                       ? absl::string_view()
                                       : head.substr(line_end + 2))) {
    if (absl::EqualsIgnoreCase(k, "Connection") ||
        absl::EqualsIgnoreCase(k, "Transfer-Encoding") ||
        absl::EqualsIgnoreCase(k, "Keep-Alive")) {
      continue;
    }
    // A HEAD's Content-Length describes the body it did not send: keep it.
    if (absl::EqualsIgnoreCase(k, "Content-Length") &&
        request.method != "HEAD") {
      continue;
    }
    resp.headers.emplace_back(std::move(k), std::move(v));
  }
  resp.body = in.substr(head_end + 4);
  return resp;
}

}  // namespace shapin::registry::testing

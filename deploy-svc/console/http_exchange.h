// One HTTP request and its response, as plain values: what the console's
// pages are written against, so they never see the HTTP server library.
// The server adapter (adapters/civetweb_http_server.h) fills a request from
// what civetweb parsed; FormValue and CookieValue decode with civetweb's own
// functions (no hand-written HTTP parsing).
//
//   std::optional<std::string> sha = FormValue(request.body, "image_sha");
//   std::optional<std::string> id =
//       CookieValue(request.Header("cookie").value_or(""), "shapin_session");
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_HTTP_EXCHANGE_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_HTTP_EXCHANGE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace shapin::console {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // URL-decoded, without the query
  std::string query;   // raw (still encoded), without '?'
  // Header names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;
  bool tls = false;  // arrived over HTTPS

  // The first header of that (case-insensitive) name.
  std::optional<std::string> Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The value of `name` in an application/x-www-form-urlencoded text (a POST
// body or a query string), decoded; nullopt when absent. Values longer than
// 8 KiB are treated as absent (no field of the console is that long).
std::optional<std::string> FormValue(absl::string_view encoded,
                                     absl::string_view name);

// The value of cookie `name` in a Cookie header; nullopt when absent.
std::optional<std::string> CookieValue(absl::string_view cookie_header,
                                       absl::string_view name);

// `text` percent-encoded for a query string or path segment.
std::string UrlEncode(absl::string_view text);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_HTTP_EXCHANGE_H_

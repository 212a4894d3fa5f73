// The same-origin check of state-changing requests (the first half of the
// console's CSRF defence; the second is the session's CSRF token).
//
// A POST must name its origin, and it must be the console's own: the Origin
// header (every current browser sends it on POST) or, when a browser left it
// out, the origin of the Referer. Neither, "null", or another origin is
// PERMISSION_DENIED saying which.
//
//   std::string expected = ExpectedOrigin(public_origin, request.tls,
//                                         request.Header("host").value_or(""));
//   SHAPIN_RETURN_IF_ERROR(CheckSameOrigin(request, expected));
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_SAME_ORIGIN_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_SAME_ORIGIN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "deploy-svc/console/http_exchange.h"

namespace shapin::console {

// `public_origin` (console.public_origin) when set, else the listener's
// scheme and the request's Host: "https://127.0.0.1:8443". Lower-cased.
std::string ExpectedOrigin(absl::string_view public_origin, bool tls,
                           absl::string_view host_header);

// "scheme://host[:port]" of an absolute URL, lower-cased; empty when `url`
// is not one.
std::string OriginOfUrl(absl::string_view url);

absl::Status CheckSameOrigin(const HttpRequest& request,
                             absl::string_view expected_origin);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_SAME_ORIGIN_H_

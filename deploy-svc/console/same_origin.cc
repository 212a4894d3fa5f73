#include "deploy-svc/console/same_origin.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace shapin::console {

std::string ExpectedOrigin(absl::string_view public_origin, bool tls,
                           absl::string_view host_header) {
  if (!public_origin.empty()) return absl::AsciiStrToLower(public_origin);
  return absl::AsciiStrToLower(
      absl::StrCat(tls ? "https://" : "http://", host_header));
}

std::string OriginOfUrl(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos || scheme_end == 0) return "";
  size_t authority_end = url.find_first_of("/?#", scheme_end + 3);
  if (authority_end == absl::string_view::npos) authority_end = url.size();
  if (authority_end == scheme_end + 3) return "";
  return absl::AsciiStrToLower(url.substr(0, authority_end));
}

absl::Status CheckSameOrigin(const HttpRequest& request,
                             absl::string_view expected_origin) {
  std::string seen;
  absl::string_view from;
  if (std::optional<std::string> origin = request.Header("origin")) {
    seen = absl::AsciiStrToLower(absl::StripAsciiWhitespace(*origin));
    from = "Origin";
  } else if (std::optional<std::string> referer = request.Header("referer")) {
    seen = OriginOfUrl(absl::StripAsciiWhitespace(*referer));
    from = "Referer";
  } else {
    return absl::PermissionDeniedError(
        "the request names no origin (no Origin or Referer header): "
        "state-changing requests must come from the console's own pages");
  }
  if (seen.empty() || seen == "null") {
    return absl::PermissionDeniedError(absl::StrCat(
        "the request's ", from,
        " is opaque: state-changing requests must come from the console's "
        "own pages"));
  }
  if (seen != absl::AsciiStrToLower(expected_origin)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cross-origin request refused: ", from, " is ", seen.substr(0, 200),
        ", the console is ", expected_origin));
  }
  return absl::OkStatus();
}

}  // namespace shapin::console

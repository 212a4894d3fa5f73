#include "common/registry/http.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace shapin::registry {
namespace {

constexpr absl::string_view kAllowedQueryParams[] = {
    "n", "last", "digest", "mount", "from", "artifactType", "service", "scope"};

bool IsAllowedQueryParam(absl::string_view name) {
  for (absl::string_view allowed : kAllowedQueryParams) {
    if (name == allowed) return true;
  }
  return false;
}

// Splits "scheme://authority/path?query#frag" into the part before the
// authority's end and the rest. Returns npos when there is no "://".
size_t AuthorityStart(absl::string_view url) {
  size_t p = url.find("://");
  return p == absl::string_view::npos ? p : p + 3;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) {
      return std::string(absl::StripAsciiWhitespace(v));
    }
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::Headers(absl::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) {
      out.emplace_back(absl::StripAsciiWhitespace(v));
    }
  }
  return out;
}

bool IsWriteMethod(absl::string_view method) {
  return !(absl::EqualsIgnoreCase(method, "GET") ||
           absl::EqualsIgnoreCase(method, "HEAD"));
}

std::string RedactUrl(absl::string_view url) {
  size_t q = url.find('?');
  if (q == absl::string_view::npos) return std::string(url);
  absl::string_view query = url.substr(q + 1);
  if (size_t h = query.find('#'); h != absl::string_view::npos) {
    query = query.substr(0, h);
  }
  std::vector<std::string> parts;
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    size_t eq = kv.find('=');
    absl::string_view name = kv.substr(0, eq);
    if (IsAllowedQueryParam(name) || eq == absl::string_view::npos) {
      parts.emplace_back(kv);
    } else {
      parts.push_back(absl::StrCat(name, "=REDACTED"));
    }
  }
  return absl::StrCat(url.substr(0, q), "?", absl::StrJoin(parts, "&"));
}

std::string UrlHost(absl::string_view url) {
  size_t start = AuthorityStart(url);
  if (start == absl::string_view::npos) return "";
  absl::string_view rest = url.substr(start);
  size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  return absl::AsciiStrToLower(authority);
}

std::string UrlScheme(absl::string_view url) {
  size_t p = url.find("://");
  if (p == absl::string_view::npos) return "";
  return absl::AsciiStrToLower(url.substr(0, p));
}

bool IsLoopbackHost(absl::string_view host) {
  absl::string_view h = host;
  if (absl::StartsWith(h, "[")) {
    size_t close = h.find(']');
    h = h.substr(1, close == absl::string_view::npos ? h.size() : close - 1);
    return h == "::1";
  }
  if (size_t colon = h.rfind(':'); colon != absl::string_view::npos) {
    if (h.find(':') != colon) return h == "::1";  // bare IPv6
    h = h.substr(0, colon);
  }
  return absl::EqualsIgnoreCase(h, "localhost") || absl::StartsWith(h, "127.");
}

std::string ResolveLocation(absl::string_view base_url,
                            absl::string_view location) {
  if (location.find("://") != absl::string_view::npos) {
    return std::string(location);
  }
  size_t start = AuthorityStart(base_url);
  if (start == absl::string_view::npos) return std::string(location);
  size_t path_start = base_url.find('/', start);
  absl::string_view origin = base_url.substr(0, path_start);
  if (absl::StartsWith(location, "//")) {
    return absl::StrCat(base_url.substr(0, start - 3), ":", location);
  }
  if (absl::StartsWith(location, "/")) return absl::StrCat(origin, location);
  // Relative to the base path's directory.
  absl::string_view path = path_start == absl::string_view::npos
                               ? absl::string_view("/")
                               : base_url.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  path = path.substr(0, path.rfind('/') + 1);
  return absl::StrCat(origin, path, location);
}

std::string QueryEscape(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace shapin::registry

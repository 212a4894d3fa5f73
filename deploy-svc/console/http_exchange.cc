#include "deploy-svc/console/http_exchange.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "civetweb.h"

namespace shapin::console {
namespace {

constexpr size_t kMaxValueBytes = 8 * 1024;

}  // namespace

std::optional<std::string> HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> FormValue(absl::string_view encoded,
                                     absl::string_view name) {
  const std::string data(encoded);
  const std::string key(name);
  std::vector<char> value(kMaxValueBytes + 1);
  // -1: absent; -2: the buffer is too small (or a bad argument).
  const int n = mg_get_var(data.data(), data.size(), key.c_str(), value.data(),
                           value.size());
  if (n < 0) return std::nullopt;
  return std::string(value.data(), static_cast<size_t>(n));
}

std::optional<std::string> CookieValue(absl::string_view cookie_header,
                                       absl::string_view name) {
  const std::string header(cookie_header);
  const std::string key(name);
  std::vector<char> value(kMaxValueBytes + 1);
  const int n =
      mg_get_cookie(header.c_str(), key.c_str(), value.data(), value.size());
  if (n < 0) return std::nullopt;
  return std::string(value.data(), static_cast<size_t>(n));
}

std::string UrlEncode(absl::string_view text) {
  const std::string in(text);
  // Each byte becomes at most three characters, plus the terminator.
  std::vector<char> out(in.size() * 3 + 1);
  const int n = mg_url_encode(in.c_str(), out.data(), out.size());
  return n < 0 ? std::string()
               : std::string(out.data(), static_cast<size_t>(n));
}

}  // namespace shapin::console

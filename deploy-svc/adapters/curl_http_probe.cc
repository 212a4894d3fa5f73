#include "deploy-svc/adapters/curl_http_probe.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace shapin::deploy {
namespace {

constexpr size_t kMaxBody = 64 * 1024;

size_t Append(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  const size_t bytes = size * n;
  if (body->size() < kMaxBody) {
    body->append(data, std::min(bytes, kMaxBody - body->size()));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<ProbeResponse> CurlHttpProbe::Get(const std::string& url,
                                                 absl::Duration timeout) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  ProbeResponse response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace shapin::deploy

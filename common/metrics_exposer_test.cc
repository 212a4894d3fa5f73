#include "common/metrics_exposer.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string HttpGet(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  return body;
}

TEST(MetricsExposerTest, ServesTheRegistryOnAPickedPort) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("shapin_test_total")
      .Help("test")
      .Register(*registry)
      .Add({{"k", "v"}})
      .Increment(3);
  auto exposer = MetricsExposer::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  ASSERT_GT((*exposer)->port(), 0);
  std::string body = HttpGet(
      "http://127.0.0.1:" + std::to_string((*exposer)->port()) + "/metrics");
  EXPECT_THAT(body, HasSubstr("shapin_test_total{k=\"v\"} 3"));
}

TEST(MetricsExposerTest, TakenPortIsAClearErrorNotAnAbort) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address =
      "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  auto exposer =
      MetricsExposer::Start(address, std::make_shared<prometheus::Registry>());
  close(fd);
  ASSERT_FALSE(exposer.ok());
  EXPECT_EQ(exposer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(exposer.status().message()), HasSubstr(address));
}

}  // namespace
}  // namespace shapin

// The console's listener on the real civetweb, over HTTP and HTTPS, asked by
// libcurl: requests arrive parsed (method, decoded path, raw query, lower-
// cased headers, body), responses go out with their status and headers,
// oversized bodies never reach the handler, and the TLS port speaks only
// TLS with the configured certificate.
#include "deploy-svc/console/adapters/civetweb_http_server.h"

#include <atomic>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/registry/testing/registry_server.h"
#include "curl/curl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::console {
namespace {

using ::testing::HasSubstr;

struct Reply {
  long status = 0;
  std::string headers;
  std::string body;
  CURLcode code = CURLE_OK;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Reply Fetch(const std::string& url, const std::string& post_body = "",
            const std::string& ca_file = "",
            std::vector<std::string> headers = {}) {
  Reply r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  if (!post_body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body.c_str());
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers)
    list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpResponse Echo(const HttpRequest& r) {
    calls_++;
    {
      absl::MutexLock lock(&mu_);
      last_ = r;
    }
    HttpResponse out;
    out.status = r.path == "/missing" ? 404 : 200;
    out.content_type = "text/plain";
    out.headers.push_back({"X-Echo-Path", r.path});
    out.body = absl::StrCat(r.method, " ", r.path, " ?", r.query,
                            " body=", r.body, " tls=", r.tls);
    return out;
  }
  HttpHandler Handler() {
    return [this](const HttpRequest& r) { return Echo(r); };
  }
  HttpRequest Last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

  std::atomic<int> calls_ = 0;
  absl::Mutex mu_;
  HttpRequest last_;
};

TEST_F(HttpServerTest, PlainRequestsArriveParsedAndAnswersKeepTheirHeaders) {
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> server =
      CivetwebHttpServer::Start({.listen = "127.0.0.1:0"}, Handler());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*server)->port());
  EXPECT_FALSE((*server)->tls());

  Reply get = Fetch(base + "/environments/a%20b?page_token=p5&x=%3C", "", "",
                    {"Cookie: shapin_session=abc", "X-Mixed-Case: yes"});
  ASSERT_EQ(get.code, CURLE_OK) << curl_easy_strerror(get.code);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /environments/a b ?page_token=p5&x=%3C body= tls=0");
  EXPECT_THAT(get.headers, HasSubstr("X-Echo-Path: /environments/a b"));
  EXPECT_THAT(get.headers, HasSubstr("Content-Type: text/plain"));
  HttpRequest seen = Last();
  EXPECT_EQ(seen.Header("cookie"), "shapin_session=abc");
  EXPECT_EQ(seen.Header("X-MIXED-CASE"), "yes");
  EXPECT_EQ(seen.remote_addr, "127.0.0.1");

  Reply post = Fetch(base + "/login", "token=abc%2B1&csrf=x");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "POST /login ? body=token=abc%2B1&csrf=x tls=0");

  EXPECT_EQ(Fetch(base + "/missing").status, 404);
}

// A frame chain of `bytes`, live until the deepest call returns.
int DeepCall(size_t bytes) {
  constexpr size_t kFrame = 16 * 1024;
  volatile char frame[kFrame];
  std::memset(const_cast<char*>(frame), 1, kFrame);
  int n = 1;
  if (bytes > kFrame) n += DeepCall(bytes - kFrame);
  return n + frame[kFrame / 2] - 1;
}

TEST_F(HttpServerTest, HandlersHaveMoreStackThanCivetwebsWorkers) {
  // civetweb's workers have 100 KiB; a rollback through curl, OpenSSL and
  // libpqxx under ASan needs more (it overflowed before the fix).
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> server =
      CivetwebHttpServer::Start(
          {.listen = "127.0.0.1:0"}, [](const HttpRequest&) {
            HttpResponse out;
            out.content_type = "text/plain";
            out.body = absl::StrCat(DeepCall(1024 * 1024));
            return out;
          });
  ASSERT_TRUE(server.ok()) << server.status();
  Reply reply =
      Fetch(absl::StrCat("http://127.0.0.1:", (*server)->port(), "/deep"));
  ASSERT_EQ(reply.code, CURLE_OK) << curl_easy_strerror(reply.code);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "64");
}

TEST_F(HttpServerTest, OversizedBodiesAreRefusedBeforeTheHandler) {
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> server =
      CivetwebHttpServer::Start(
          {.listen = "127.0.0.1:0", .max_body_bytes = 1024}, Handler());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*server)->port());
  Reply big = Fetch(base + "/login", std::string(4096, 'a'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(calls_, 0);
  Reply small = Fetch(base + "/login", std::string(1000, 'a'));
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(calls_, 1);
}

TEST_F(HttpServerTest, TlsListenerServesHttpsOnlyWithItsCertificate) {
  absl::StatusOr<registry::testing::TempDir> dir =
      registry::testing::TempDir::Create("shapin-console-tls");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::filesystem::path d = dir->path();
  ASSERT_TRUE(registry::testing::MakeTestCertificates(d).ok());
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> server =
      CivetwebHttpServer::Start({.listen = "127.0.0.1:0",
                                 .cert_file = (d / "server.pem").string(),
                                 .key_file = (d / "server.key").string()},
                                Handler());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE((*server)->tls());
  const int port = (*server)->port();

  Reply https = Fetch(absl::StrCat("https://127.0.0.1:", port, "/x"), "",
                      (d / "ca.pem").string());
  ASSERT_EQ(https.code, CURLE_OK) << curl_easy_strerror(https.code);
  EXPECT_EQ(https.status, 200);
  EXPECT_THAT(https.body, HasSubstr("tls=1"));

  // Not trusted without the CA; no plaintext on the TLS port.
  EXPECT_NE(Fetch(absl::StrCat("https://127.0.0.1:", port, "/x")).code,
            CURLE_OK);
  Reply plain = Fetch(absl::StrCat("http://127.0.0.1:", port, "/x"));
  EXPECT_TRUE(plain.code != CURLE_OK || plain.status != 200);
  EXPECT_EQ(calls_, 1);
}

TEST_F(HttpServerTest, BadCertificatesAndTakenPortsAreClearErrors) {
  absl::StatusOr<registry::testing::TempDir> dir =
      registry::testing::TempDir::Create("shapin-console-tls-bad");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::filesystem::path d = dir->path();
  ASSERT_TRUE(registry::testing::MakeTestCertificates(d).ok());
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> no_cert =
      CivetwebHttpServer::Start({.listen = "127.0.0.1:0",
                                 .cert_file = (d / "absent.pem").string(),
                                 .key_file = (d / "server.key").string()},
                                Handler());
  EXPECT_EQ(no_cert.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_cert.status().message()),
              HasSubstr("console.tls.cert_file"));
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> wrong_key =
      CivetwebHttpServer::Start({.listen = "127.0.0.1:0",
                                 .cert_file = (d / "server.pem").string(),
                                 .key_file = (d / "ca.key").string()},
                                Handler());
  EXPECT_EQ(wrong_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wrong_key.status().message()),
              HasSubstr("console.tls.key_file"));

  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> first =
      CivetwebHttpServer::Start({.listen = "127.0.0.1:0"}, Handler());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<CivetwebHttpServer>> second =
      CivetwebHttpServer::Start(
          {.listen = absl::StrCat("127.0.0.1:", (*first)->port())}, Handler());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("127.0.0.1:", (*first)->port())));
}

}  // namespace
}  // namespace shapin::console

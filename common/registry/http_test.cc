#include "common/registry/http.h"

#include <string>

#include "absl/status/status.h"
#include "common/registry/curl_transport.h"
#include "common/registry/read_only_transport.h"
#include "common/registry/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

using ::shapin::registry::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RedactUrlTest, KeepsAllowListedParametersOnly) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"https://r.io/v2/a/blobs/uploads/1?_state=abc&digest=sha256:00",
       "https://r.io/v2/a/blobs/uploads/1?_state=REDACTED&digest=sha256:00"},
      {"https://s3.example/x?X-Amz-Signature=sig&X-Amz-Credential=c",
       "https://s3.example/"
       "x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED"},
      {"https://r.io/v2/a/tags/list?n=2&last=t1",
       "https://r.io/v2/a/tags/list?n=2&last=t1"},
      {"https://r.io/token?service=r.io&scope=repository:a:pull&account=bob",
       "https://r.io/"
       "token?service=r.io&scope=repository:a:pull&account=REDACTED"},
      {"https://r.io/v2/", "https://r.io/v2/"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(RedactUrl(c.in), c.out);
  }
}

TEST(UrlTest, HostSchemeAndLoopback) {
  EXPECT_EQ(UrlHost("https://GHCR.io/v2/"), "ghcr.io");
  EXPECT_EQ(UrlHost("http://127.0.0.1:5000/v2/x?y"), "127.0.0.1:5000");
  EXPECT_EQ(UrlHost("https://user:pw@host:1/x"), "host:1");
  EXPECT_EQ(UrlHost("/relative"), "");
  EXPECT_EQ(UrlScheme("HTTPS://x"), "https");
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost:80"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:5000"));
  EXPECT_FALSE(IsLoopbackHost("ghcr.io"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1:5000"));
  EXPECT_FALSE(IsLoopbackHost("localhost.evil.com"));
}

TEST(ResolveLocationTest, AbsoluteAndRelativeForms) {
  const char* base = "https://r.io:5000/v2/a/blobs/uploads/?mount=x";
  EXPECT_EQ(ResolveLocation(base, "https://other/x?y=1"),
            "https://other/x?y=1");
  EXPECT_EQ(ResolveLocation(base, "/v2/a/blobs/uploads/u1?_state=s"),
            "https://r.io:5000/v2/a/blobs/uploads/u1?_state=s");
  EXPECT_EQ(ResolveLocation(base, "u2"),
            "https://r.io:5000/v2/a/blobs/uploads/u2");
  EXPECT_EQ(ResolveLocation(base, "//cdn.example/blob"),
            "https://cdn.example/blob");
}

TEST(IsWriteMethodTest, OnlyGetAndHeadAreReads) {
  EXPECT_FALSE(IsWriteMethod("GET"));
  EXPECT_FALSE(IsWriteMethod("HEAD"));
  for (const char* m : {"PUT", "POST", "PATCH", "DELETE"}) {
    EXPECT_TRUE(IsWriteMethod(m)) << m;
  }
}

TEST(CurlTransportTest, RefusesPlainHttpToNonLoopbackHosts) {
  auto curl = CurlTransport::Create({});
  ASSERT_TRUE(curl.ok());
  HttpRequest req;
  req.url = "http://registry.example.com/v2/";
  EXPECT_THAT((*curl)->RoundTrip(req),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("plain http to registry.example.com")));
  CurlTransportOptions o;
  o.insecure_hosts = {"registry.example.com"};
  auto allowed = CurlTransport::Create(o);
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE((*allowed)->PlainHttpAllowed("registry.example.com"));
  EXPECT_FALSE((*allowed)->PlainHttpAllowed("other.example.com"));
}

TEST(CurlTransportTest, UnreadableCaFileIsRejectedAtCreation) {
  CurlTransportOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(CurlTransport::Create(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/nonexistent/ca.pem")));
}

TEST(CurlTransportTest, DeadlineInThePastFailsBeforeSending) {
  auto curl = CurlTransport::Create({});
  ASSERT_TRUE(curl.ok());
  HttpRequest req;
  req.url = "https://registry.example.com/v2/";
  req.deadline = absl::InfinitePast();
  EXPECT_THAT(
      (*curl)->RoundTrip(req),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline")));
}

class CountingTransport : public HttpTransport {
 public:
  absl::StatusOr<HttpResponse> RoundTrip(const HttpRequest&) override {
    ++calls;
    return HttpResponse{};
  }
  int calls = 0;
};

TEST(ReadOnlyTransportTest, RefusesWritesWithoutCallingInner) {
  auto inner = std::make_unique<CountingTransport>();
  CountingTransport* counter = inner.get();
  ReadOnlyTransport ro(std::move(inner));
  for (const char* m : {"PUT", "POST", "PATCH", "DELETE"}) {
    SCOPED_TRACE(m);
    HttpRequest req;
    req.method = m;
    req.url = "https://r.io/v2/a/blobs/uploads/1?_state=secret";
    absl::StatusOr<HttpResponse> r = ro.RoundTrip(req);
    EXPECT_THAT(
        r, StatusIs(absl::StatusCode::kPermissionDenied,
                    ::testing::AllOf(HasSubstr("read-only"), HasSubstr(m),
                                     ::testing::Not(HasSubstr("secret")))));
  }
  EXPECT_EQ(counter->calls, 0);
  HttpRequest get;
  get.url = "https://r.io/v2/";
  EXPECT_TRUE(ro.RoundTrip(get).ok());
  EXPECT_EQ(counter->calls, 1);
}

}  // namespace
}  // namespace shapin::registry

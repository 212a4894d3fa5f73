#include "deploy-svc/console/same_origin.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::console {
namespace {

using ::testing::HasSubstr;

HttpRequest Post(std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/environments/local/rollback";
  r.headers = std::move(headers);
  return r;
}

TEST(SameOriginTest, ExpectedOriginFromTheListenerOrTheConfiguredOne) {
  EXPECT_EQ(ExpectedOrigin("", true, "127.0.0.1:8443"),
            "https://127.0.0.1:8443");
  EXPECT_EQ(ExpectedOrigin("", false, "Console.Example:80"),
            "http://console.example:80");
  EXPECT_EQ(ExpectedOrigin("https://Shapin.Example.org", false, "10.0.0.5"),
            "https://shapin.example.org");
}

TEST(SameOriginTest, OriginOfUrl) {
  EXPECT_EQ(OriginOfUrl("https://a.example:8443/environments/x?y=1"),
            "https://a.example:8443");
  EXPECT_EQ(OriginOfUrl("http://A.example"), "http://a.example");
  EXPECT_EQ(OriginOfUrl("http://a.example?x"), "http://a.example");
  EXPECT_EQ(OriginOfUrl("/relative/path"), "");
  EXPECT_EQ(OriginOfUrl("https:///x"), "");
  EXPECT_EQ(OriginOfUrl(""), "");
}

TEST(SameOriginTest, OwnOriginPasses) {
  const std::string own = "https://127.0.0.1:8443";
  EXPECT_TRUE(CheckSameOrigin(Post({{"origin", own}}), own).ok());
  EXPECT_TRUE(
      CheckSameOrigin(Post({{"origin", "HTTPS://127.0.0.1:8443"}}), own).ok());
  // A browser that leaves Origin out still sends the Referer.
  EXPECT_TRUE(
      CheckSameOrigin(Post({{"referer", own + "/environments/local"}}), own)
          .ok());
}

TEST(SameOriginTest, OtherMissingOrOpaqueOriginsAreRefused) {
  const std::string own = "https://127.0.0.1:8443";
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    const char* message;
  };
  for (const Case& c : {
           Case{{{"origin", "https://evil.example"}},
                "Origin is https://evil.example"},
           Case{{{"origin", "http://127.0.0.1:8443"}}, "cross-origin"},
           Case{{{"origin", "https://127.0.0.1:8444"}}, "cross-origin"},
           Case{{{"origin", "null"}}, "opaque"},
           // Origin wins over a matching Referer.
           Case{{{"origin", "https://evil.example"}, {"referer", own + "/"}},
                "cross-origin"},
           Case{{{"referer", "https://evil.example/page"}}, "Referer is"},
           Case{{{"referer", "about:blank"}}, "opaque"},
           Case{{}, "names no origin"},
       }) {
    SCOPED_TRACE(c.message);
    absl::Status s = CheckSameOrigin(Post(c.headers), own);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace shapin::console

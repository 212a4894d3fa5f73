#include "deploy-svc/console/console_route.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::console {
namespace {

using ::testing::HasSubstr;

constexpr char kSha[] = "0123456789abcdef0123456789abcdef01234567";

TEST(ConsoleRouteTest, PagesAndTheirParameters) {
  absl::StatusOr<Route> r = ParseRoute("GET", "/", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->page, ConsolePage::kEnvironments);

  r = ParseRoute("GET", "/environments/production", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->page, ConsolePage::kEnvironment);
  EXPECT_EQ(r->environment, "production");

  r = ParseRoute("GET", "/environments/production/history", "page_token=p42");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->page, ConsolePage::kHistory);
  EXPECT_EQ(r->page_request.before_id, 42);

  r = ParseRoute("POST", "/environments/local/rollback", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->page, ConsolePage::kRollback);
  EXPECT_EQ(r->environment, "local");
  EXPECT_EQ(ParseRoute("POST", "/environments/local/release-hold", "")->page,
            ConsolePage::kReleaseHold);

  r = ParseRoute("GET", "/builds", absl::StrCat("sha=", kSha));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->page, ConsolePage::kBuilds);
  ASSERT_TRUE(r->sha.has_value());
  EXPECT_EQ(r->sha->str(), kSha);
  EXPECT_EQ(ParseRoute("GET", "/api/builds", "")->page,
            ConsolePage::kBuildsJson);

  r = ParseRoute("GET", "/builds/17", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->build_id, 17);

  EXPECT_EQ(ParseRoute("GET", "/login", "")->page, ConsolePage::kLoginForm);
  EXPECT_EQ(ParseRoute("POST", "/login", "")->page, ConsolePage::kLogin);
  EXPECT_EQ(ParseRoute("POST", "/logout", "")->page, ConsolePage::kLogout);
  EXPECT_EQ(ParseRoute("GET", "/static/console.js", "")->asset, "console.js");
}

TEST(ConsoleRouteTest, MalformedValuesAreBadRequestsNamingThem) {
  struct Case {
    const char* path;
    const char* query;
    const char* message;
  };
  for (const Case& c : {
           Case{"/builds", "sha=abc", "sha: "},
           Case{"/builds", "sha=0123456789ABCDEF0123456789abcdef01234567",
                "sha: "},
           Case{"/builds", "sha=", "sha: is required"},
           Case{"/api/builds", "sha=%3Cscript%3E", "sha: "},
           Case{"/builds/abc", "", "build id: must be a positive number"},
           Case{"/builds/0", "", "build id: must be a positive number"},
           Case{"/builds/123456789012345678901", "", "build id: at most"},
           Case{"/builds", "page_token=x1", "page_token"},
           Case{"/environments/local/history", "page_token=p-1", "page_token"},
       }) {
    SCOPED_TRACE(absl::StrCat(c.path, "?", c.query));
    absl::StatusOr<Route> r = ParseRoute("GET", c.path, c.query);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

TEST(ConsoleRouteTest, UnknownPathsAreNotFoundAndWrongMethodsSayWhatIsAllowed) {
  for (const char* path :
       {"/nope", "/environments", "/environments/", "/environments/a/b",
        "/environments//history", "/builds/", "/static/other.js", "//",
        "/builds/1/x", "relative", ""}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(ParseRoute("GET", path, "").status().code(),
              absl::StatusCode::kNotFound);
  }
  absl::StatusOr<Route> r = ParseRoute("GET", "/environments/a/rollback", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("allowed: POST"));
  EXPECT_EQ(AllowedMethod("/environments/a/rollback"), "POST");
  EXPECT_EQ(ParseRoute("POST", "/builds", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AllowedMethod("/builds"), "GET");
  EXPECT_EQ(ParseRoute("DELETE", "/login", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AllowedMethod("/login"), "GET, POST");
  EXPECT_EQ(AllowedMethod("/nope"), "");
}

}  // namespace
}  // namespace shapin::console

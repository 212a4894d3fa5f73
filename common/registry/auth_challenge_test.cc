#include "common/registry/auth_challenge.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

TEST(ParseWwwAuthenticateTest, GhcrBearerChallenge) {
  std::vector<AuthChallenge> c = ParseWwwAuthenticate(
      R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:mconstant/app:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].Param("realm"), "https://ghcr.io/token");
  EXPECT_EQ(c[0].Param("service"), "ghcr.io");
  EXPECT_EQ(c[0].Param("scope"), "repository:mconstant/app:pull");
  EXPECT_EQ(c[0].Param("missing"), "");
}

TEST(ParseWwwAuthenticateTest, Cases) {
  struct Case {
    const char* header;
    std::vector<std::string> schemes;
    const char* first_realm;
  } cases[] = {
      {R"(Basic realm="Registry Realm")", {"basic"}, "Registry Realm"},
      {R"(BASIC realm=plain)", {"basic"}, "plain"},
      {R"(Bearer realm="a, b", error="insufficient_scope", Basic realm="x")",
       {"bearer", "basic"},
       "a, b"},
      {R"(Bearer realm="quo\"ted")", {"bearer"}, "quo\"ted"},
      {R"(Bearer   realm = "spaced" , service="s")", {"bearer"}, "spaced"},
      {"", {}, ""},
      {"Negotiate", {"negotiate"}, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    std::vector<AuthChallenge> got = ParseWwwAuthenticate(c.header);
    std::vector<std::string> schemes;
    for (const AuthChallenge& a : got) schemes.push_back(a.scheme);
    EXPECT_EQ(schemes, c.schemes);
    if (!got.empty()) {
      EXPECT_EQ(got[0].Param("realm"), c.first_realm);
    }
  }
}

}  // namespace
}  // namespace shapin::registry

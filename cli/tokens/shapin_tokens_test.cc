// shapin-tokens as a subprocess against a real PostgreSQL: create prints a
// token (only on stdout) that the services' lookup accepts, list shows names
// and roles but never a whole digest, revoke takes the token out, and bad
// values exit 2 naming the field.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/adapters/postgres_api_token_store.h"
#include "common/auth/api_token.h"
#include "common/auth/token_hash.h"
#include "common/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/postgres_server.h"
#include "tests/support/status_matchers.h"

namespace shapin::auth {
namespace {

using ::shapin::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class ShapinTokensTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = testing::PostgresServer::StartOrDie().release();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    absl::StatusOr<std::string> url =
        pg_->CreateDatabase(absl::AsciiStrToLower(info->name()));
    ASSERT_THAT(url.status(), IsOk());
    url_ = *url;
  }

  // Runs shapin-tokens with `args`; DATABASE_URL is set to this test's
  // database unless `env` says otherwise.
  SubprocessResult Tokens(
      std::vector<std::string> args,
      std::vector<std::pair<std::string, std::string>> env = {}) {
    SubprocessOptions options;
    options.argv = {SHAPIN_TOKENS_BINARY};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env =
        env.empty()
            ? std::vector<std::pair<std::string, std::string>>{{"DATABASE_URL",
                                                                url_},
                                                               {"USER",
                                                                "tester"}}
            : env;
    options.timeout = absl::Seconds(60);
    absl::StatusOr<SubprocessResult> r = RunSubprocess(options);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *r : SubprocessResult{};
  }

  // What the services do with the table: the active tokens as identities.
  absl::StatusOr<IdentityRegistry> ActiveIdentities() {
    absl::StatusOr<std::unique_ptr<PostgresPool>> pool =
        PostgresPool::Connect({.url = url_, .size = 1});
    if (!pool.ok()) return pool.status();
    PostgresApiTokenStore store(**pool);
    absl::StatusOr<std::vector<ApiTokenRecord>> active = store.List(false);
    if (!active.ok()) return active.status();
    return ActiveTokenIdentities(*active, "api_tokens");
  }

  static testing::PostgresServer* pg_;
  std::string url_;
};

testing::PostgresServer* ShapinTokensTest::pg_ = nullptr;

TEST_F(ShapinTokensTest, CreatedTokenAuthenticatesUntilRevoked) {
  SubprocessResult created =
      Tokens({"create", "--name", "ci", "--roles", "builder,viewer"});
  ASSERT_EQ(created.exit_code, 0) << created.stderr_data;
  const std::string token =
      std::string(absl::StripTrailingAsciiWhitespace(created.stdout_data));
  // Exactly the token on stdout; the note on stderr does not repeat it.
  EXPECT_THAT(token, MatchesRegex("shapin_[A-Za-z0-9_-]{43}"));
  EXPECT_THAT(created.stderr_data, HasSubstr("created token \"ci\""));
  EXPECT_THAT(created.stderr_data, Not(HasSubstr(token)));

  absl::StatusOr<IdentityRegistry> ids = ActiveIdentities();
  ASSERT_THAT(ids.status(), IsOk());
  std::optional<Identity> who = ids->FindByToken(token);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "ci");
  EXPECT_EQ(who->roles.ToString(), "builder,viewer");

  SubprocessResult listed = Tokens({"list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.stderr_data;
  EXPECT_THAT(listed.stdout_data, HasSubstr("ci"));
  EXPECT_THAT(listed.stdout_data, HasSubstr("builder,viewer"));
  EXPECT_THAT(listed.stdout_data, HasSubstr("tester"));
  const std::string digest = TokenSha256Hex(token);
  EXPECT_THAT(listed.stdout_data, HasSubstr(digest.substr(0, 12)));
  EXPECT_THAT(listed.stdout_data, Not(HasSubstr(digest)));
  EXPECT_THAT(listed.stdout_data, Not(HasSubstr(token)));

  SubprocessResult revoked = Tokens({"revoke", "--name", "ci"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.stderr_data;
  ids = ActiveIdentities();
  ASSERT_THAT(ids.status(), IsOk());
  EXPECT_FALSE(ids->FindByToken(token).has_value());
  EXPECT_THAT(Tokens({"list"}).stdout_data, Not(HasSubstr("builder,viewer")));
  SubprocessResult all = Tokens({"list", "--all"});
  EXPECT_THAT(all.stdout_data, HasSubstr("by tester"));

  SubprocessResult again = Tokens({"revoke", "--name", "ci"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.stderr_data, HasSubstr("no active token is named \"ci\""));
}

TEST_F(ShapinTokensTest, BadValuesExitTwoNamingTheField) {
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {{"create", "--name", "ci", "--roles", "builder,admin"},
            "roles: unknown role"},
           {{"create", "--name", "c i", "--roles", "viewer"},
            "name: must be 1 to 64"},
           {{"create", "--roles", "viewer"}, "--name: required"},
           {{"create", "--name", "ci"}, "--roles: required"},
           {{"launch"}, "launch"},
       }) {
    SCOPED_TRACE(c.args[0] + " " + c.want);
    SubprocessResult r = Tokens(c.args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.stderr_data, HasSubstr(c.want));
    EXPECT_EQ(r.stdout_data, "");
  }
  // Nothing was stored by the refused calls.
  absl::StatusOr<IdentityRegistry> ids = ActiveIdentities();
  ASSERT_THAT(ids.status(), IsOk());
  EXPECT_EQ(ids->token_count(), 0u);

  SubprocessResult no_url = Tokens({"list"}, {{"USER", "tester"}});
  EXPECT_EQ(no_url.exit_code, 2);
  EXPECT_THAT(no_url.stderr_data, HasSubstr("--database-url: required"));
}

TEST_F(ShapinTokensTest, ADuplicateActiveNameIsRefused) {
  ASSERT_EQ(Tokens({"create", "--name", "ci", "--roles", "viewer"}).exit_code,
            0);
  SubprocessResult dup =
      Tokens({"create", "--name", "ci", "--roles", "viewer"});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_THAT(dup.stderr_data,
              HasSubstr("an active token is already named \"ci\""));
  EXPECT_EQ(dup.stdout_data, "");
}

}  // namespace
}  // namespace shapin::auth

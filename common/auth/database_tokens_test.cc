// Tokens kept in PostgreSQL: minting (rules), the store on a real PostgreSQL
// (create, list, revoke, duplicate names, only the digest stored), the
// refreshing token set (a failed reload keeps the last good set), and a real
// gRPC server whose interceptor accepts a token created after it started and
// refuses it once revoked, each within the refresh interval.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth/adapters/postgres_api_token_store.h"
#include "common/auth/api_token.h"
#include "common/auth/call_auth.h"
#include "common/auth/refreshing_token_identities.h"
#include "common/auth/testing/echo_build_service.h"
#include "common/auth/token_hash.h"
#include "common/grpc_server.h"
#include "common/grpc_status.h"
#include "common/schema_migrations.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "prometheus/registry.h"
#include "shapin/v1/build.grpc.pb.h"
#include "tests/support/postgres_server.h"
#include "tests/support/status_matchers.h"

namespace shapin::auth {
namespace {

using ::shapin::auth::testing::EchoBuildService;

using ::shapin::testing::IsOk;
using ::shapin::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

TEST(MintApiTokenTest, MakesARandomTokenAndStoresOnlyItsDigest) {
  absl::StatusOr<MintedApiToken> a =
      MintApiToken("ci", {"builder", "viewer"}, "alice");
  absl::StatusOr<MintedApiToken> b = MintApiToken("ci", {"builder"}, "alice");
  ASSERT_THAT(a.status(), IsOk());
  ASSERT_THAT(b.status(), IsOk());
  // "shapin_" + base64url of 32 bytes, no padding.
  EXPECT_THAT(a->token, MatchesRegex("shapin_[A-Za-z0-9_-]{43}"));
  EXPECT_NE(a->token, b->token);
  EXPECT_EQ(a->record.sha256_hex, TokenSha256Hex(a->token));
  EXPECT_EQ(a->record.roles.ToString(), "builder,viewer");
  EXPECT_EQ(a->record.created_by, "alice");
  EXPECT_EQ(AbbreviatedDigest(a->record.sha256_hex),
            a->record.sha256_hex.substr(0, 12) + "…");
}

TEST(MintApiTokenTest, BadNameOrRolesNameTheField) {
  struct Case {
    std::string name;
    std::vector<std::string> roles;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"", {"viewer"}, "name: must be 1 to 64"},
           {"has space", {"viewer"}, "name: must be 1 to 64"},
           {std::string(65, 'a'), {"viewer"}, "name: must be 1 to 64"},
           {"ci", {}, "roles: must list at least one role"},
           {"ci", {"admin"}, "roles: "},
       }) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(
        MintApiToken(c.name, c.roles, "alice").status(),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.want)));
  }
}

TEST(RefreshingTokenIdentitiesTest, AFailedReloadKeepsTheLastGoodSet) {
  std::atomic<int> loads{0};
  absl::StatusOr<std::unique_ptr<RefreshingTokenIdentities>> tokens =
      RefreshingTokenIdentities::Start(
          [&]() -> absl::StatusOr<IdentityRegistry> {
            if (loads++ > 0) {
              return absl::UnavailableError("database is down");
            }
            return IdentityRegistry::FromHashedTokens(
                {{{"ci", *ParseRoles({"viewer"})}, TokenSha256Hex("t-1")}},
                "test");
          },
          absl::Milliseconds(10), "test");
  ASSERT_THAT(tokens.status(), IsOk());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (loads.load() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE(loads.load(), 3) << "the refresh thread never reloaded";
  std::optional<Identity> who = (*tokens)->FindByToken("t-1");
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "ci");
  EXPECT_FALSE((*tokens)->FindByToken("t-2").has_value());
}

TEST(RefreshingTokenIdentitiesTest, AFailedFirstLoadIsAnError) {
  EXPECT_THAT(RefreshingTokenIdentities::Start(
                  [] {
                    return absl::StatusOr<IdentityRegistry>(
                        absl::UnavailableError("database is down"));
                  },
                  absl::Seconds(1), "database api_tokens")
                  .status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("loading tokens from database api_tokens")));
  EXPECT_THAT(RefreshingTokenIdentities::Start(
                  [] { return absl::StatusOr<IdentityRegistry>(); },
                  absl::ZeroDuration(), "x")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auth.refresh_interval")));
}

class DatabaseTokensTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = shapin::testing::PostgresServer::StartOrDie().release();
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
    absl::StatusOr<std::unique_ptr<PostgresPool>> pool =
        PostgresPool::Connect({.url = url_, .size = 2});
    ASSERT_THAT(pool.status(), IsOk());
    pool_ = *std::move(pool);
    ASSERT_THAT(ApplyMigrations(*pool_).status(), IsOk());
    store_ = std::make_unique<PostgresApiTokenStore>(*pool_);
  }

  // Every value of every column of api_tokens, as text.
  std::string TableText() {
    std::string text;
    EXPECT_THAT(pool_->Run([&](pqxx::connection& c) -> absl::Status {
      pqxx::read_transaction tx(c);
      for (const pqxx::row& row :
           tx.exec("SELECT t::text FROM api_tokens AS t")) {
        absl::StrAppend(&text, row[0].c_str(), "\n");
      }
      return absl::OkStatus();
    }),
                IsOk());
    return text;
  }

  static shapin::testing::PostgresServer* pg_;
  std::string url_;
  std::unique_ptr<PostgresPool> pool_;
  std::unique_ptr<PostgresApiTokenStore> store_;
};

shapin::testing::PostgresServer* DatabaseTokensTest::pg_ = nullptr;

TEST_F(DatabaseTokensTest, CreateListRevokeAndOnlyTheDigestIsStored) {
  absl::StatusOr<MintedApiToken> ci =
      MintApiToken("ci", {"builder", "viewer"}, "alice");
  absl::StatusOr<MintedApiToken> bot = MintApiToken("bot", {"deployer"}, "bob");
  ASSERT_THAT(ci.status(), IsOk());
  ASSERT_THAT(bot.status(), IsOk());
  ASSERT_THAT(store_->Create(ci->record), IsOk());
  ASSERT_THAT(store_->Create(bot->record), IsOk());

  absl::StatusOr<std::vector<ApiTokenRecord>> listed = store_->List(false);
  ASSERT_THAT(listed.status(), IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "ci");
  EXPECT_EQ((*listed)[0].sha256_hex, ci->record.sha256_hex);
  EXPECT_EQ((*listed)[0].roles.ToString(), "builder,viewer");
  EXPECT_EQ((*listed)[0].created_by, "alice");
  EXPECT_LT(absl::AbsDuration((*listed)[0].created_at - absl::Now()),
            absl::Minutes(5));
  EXPECT_FALSE((*listed)[0].revoked_at.has_value());

  const std::string table = TableText();
  EXPECT_THAT(table, HasSubstr(ci->record.sha256_hex));
  EXPECT_THAT(table, Not(HasSubstr(ci->token)));
  EXPECT_THAT(table, Not(HasSubstr(bot->token)));
  // Nor any stretch of the token's random part.
  EXPECT_THAT(table, Not(HasSubstr(ci->token.substr(7, 16))));

  ASSERT_THAT(store_->Revoke("ci", "carol"), IsOk());
  listed = store_->List(false);
  ASSERT_THAT(listed.status(), IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "bot");
  listed = store_->List(true);
  ASSERT_THAT(listed.status(), IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE((*listed)[0].revoked_at.has_value());
  EXPECT_EQ((*listed)[0].revoked_by, "carol");

  absl::StatusOr<IdentityRegistry> active =
      ActiveTokenIdentities(*listed, "test");
  ASSERT_THAT(active.status(), IsOk());
  EXPECT_FALSE(active->FindByToken(ci->token).has_value());
  ASSERT_TRUE(active->FindByToken(bot->token).has_value());
  EXPECT_EQ(active->FindByToken(bot->token)->name, "bot");
}

TEST_F(DatabaseTokensTest, ANameIsUniqueAmongActiveTokensOnly) {
  absl::StatusOr<MintedApiToken> first = MintApiToken("ci", {"viewer"}, "a");
  absl::StatusOr<MintedApiToken> second = MintApiToken("ci", {"viewer"}, "a");
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_THAT(second.status(), IsOk());
  ASSERT_THAT(store_->Create(first->record), IsOk());
  EXPECT_THAT(store_->Create(second->record),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("name: an active token is already named "
                                 "\"ci\"")));
  EXPECT_THAT(store_->Revoke("nobody", "a"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no active token is named \"nobody\"")));
  // Rotation: revoke, then the name is free again.
  ASSERT_THAT(store_->Revoke("ci", "a"), IsOk());
  EXPECT_THAT(store_->Create(second->record), IsOk());
  EXPECT_THAT(store_->Revoke("ci", "a"), IsOk());
  EXPECT_THAT(store_->Revoke("ci", "a"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"ci\"")));
}

TEST_F(DatabaseTokensTest, ARunningServerPicksUpCreatedAndRevokedTokens) {
  auto policy = std::make_shared<AuthPolicy>();
  absl::StatusOr<std::unique_ptr<RefreshingTokenIdentities>> tokens =
      RefreshingTokenIdentities::Start(
          [store = store_.get()]() -> absl::StatusOr<IdentityRegistry> {
            absl::StatusOr<std::vector<ApiTokenRecord>> active =
                store->List(false);
            if (!active.ok()) return active.status();
            return ActiveTokenIdentities(*active, "api_tokens");
          },
          absl::Milliseconds(50), "database api_tokens");
  ASSERT_THAT(tokens.status(), IsOk());
  policy->database_tokens = *std::move(tokens);

  prometheus::Registry metrics;
  EchoBuildService service;
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(
      {.listen = "127.0.0.1:0", .auth = policy},
      {{&service, shapin::v1::BuildService::service_full_name()}}, metrics);
  ASSERT_THAT(server.status(), IsOk());
  auto stub = shapin::v1::BuildService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  auto submit = [&](const std::string& token, shapin::v1::Build* reply) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    return stub->SubmitBuild(&ctx, {}, reply);
  };
  // Polls until the call's code is `want` or the deadline passes; returns the
  // last status.
  auto wait_for = [&](const std::string& token, grpc::StatusCode want,
                      shapin::v1::Build* reply) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    grpc::Status s = submit(token, reply);
    while (s.error_code() != want && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      s = submit(token, reply);
    }
    return s;
  };

  absl::StatusOr<MintedApiToken> ci =
      MintApiToken("ci-bot", {"builder"}, "alice");
  ASSERT_THAT(ci.status(), IsOk());
  shapin::v1::Build reply;
  grpc::Status before = submit(ci->token, &reply);
  EXPECT_EQ(before.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(before.error_message(), Not(HasSubstr(ci->token)));

  ASSERT_THAT(store_->Create(ci->record), IsOk());
  grpc::Status accepted = wait_for(ci->token, grpc::StatusCode::OK, &reply);
  ASSERT_TRUE(accepted.ok()) << accepted.error_message();
  EXPECT_EQ(reply.requested_by(), "ci-bot");

  ASSERT_THAT(store_->Revoke("ci-bot", "alice"), IsOk());
  grpc::Status refused =
      wait_for(ci->token, grpc::StatusCode::UNAUTHENTICATED, &reply);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("unknown token"));
}

}  // namespace
}  // namespace shapin::auth

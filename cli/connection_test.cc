#include "cli/connection.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shapin::cli {
namespace {

using ::shapin::testing::StatusIs;
using ::testing::HasSubstr;

const std::vector<CommandSpec>& Commands() {
  static const auto* commands =
      new std::vector<CommandSpec>{{.name = "history"}};
  return *commands;
}

Invocation Parse(std::vector<std::string> args) {
  static const auto* globals =
      new std::vector<FlagSpec>{{.name = "build-addr", .value_name = "A"},
                                {.name = "deploy-addr", .value_name = "A"},
                                {.name = "token", .value_name = "T"},
                                {.name = "tls"},
                                {.name = "ca-file", .value_name = "F"}};
  args.insert(args.begin(), "history");
  absl::StatusOr<Invocation> inv = ParseCommandLine(Commands(), *globals, args);
  EXPECT_TRUE(inv.ok()) << inv.status();
  return *inv;
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](absl::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConnectionTest, DefaultsWithoutFlagsOrEnvironment) {
  absl::StatusOr<ConnectionSettings> s = ResolveConnection(Parse({}), Env({}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->build_addr, "127.0.0.1:50051");
  EXPECT_EQ(s->deploy_addr, "127.0.0.1:50052");
  EXPECT_EQ(s->token, "");
  EXPECT_FALSE(s->tls);
}

TEST(ConnectionTest, EnvironmentThenFlagsWin) {
  const EnvLookup env = Env({{"SHAPIN_BUILD_ADDR", "b:1"},
                             {"SHAPIN_DEPLOY_ADDR", "d:2"},
                             {"SHAPIN_TOKEN", "env-token"},
                             {"SHAPIN_TLS", "1"}});
  absl::StatusOr<ConnectionSettings> s = ResolveConnection(Parse({}), env);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->build_addr, "b:1");
  EXPECT_EQ(s->deploy_addr, "d:2");
  EXPECT_EQ(s->token, "env-token");
  EXPECT_TRUE(s->tls);

  s = ResolveConnection(
      Parse({"--build-addr", "x:9", "--token=flag-token", "--tls=false"}), env);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->build_addr, "x:9");
  EXPECT_EQ(s->deploy_addr, "d:2");
  EXPECT_EQ(s->token, "flag-token");
  EXPECT_FALSE(s->tls);
}

TEST(ConnectionTest, CaFileImpliesTls) {
  absl::StatusOr<ConnectionSettings> s =
      ResolveConnection(Parse({"--ca-file", "/etc/ca.pem"}), Env({}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->tls);
  EXPECT_EQ(s->ca_file, "/etc/ca.pem");
}

TEST(ConnectionTest, BadAddressNamesWhereItCameFrom) {
  EXPECT_THAT(ResolveConnection(Parse({"--deploy-addr", "nohost"}), Env({})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--deploy-addr: expected host:port, got "
                                 "\"nohost\"")));
  EXPECT_THAT(ResolveConnection(Parse({}), Env({{"SHAPIN_BUILD_ADDR", "h:"}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("SHAPIN_BUILD_ADDR: expected host:port")));
  // gRPC target URIs pass.
  EXPECT_TRUE(
      ResolveConnection(Parse({"--build-addr", "unix:/run/b.sock"}), Env({}))
          .ok());
}

TEST(ConnectionTest, ContextCarriesTheBearerTokenOnlyWhenSet) {
  // grpc::ClientContext keeps metadata private; the channel-free check is
  // that a context can be made either way and gets a deadline.
  Connection with({.build_addr = "a:1", .deploy_addr = "b:2", .token = "t"});
  std::unique_ptr<grpc::ClientContext> ctx = with.NewContext(absl::Seconds(5));
  EXPECT_LT(ctx->deadline(),
            std::chrono::system_clock::now() + std::chrono::seconds(6));
  Connection without({.build_addr = "a:1", .deploy_addr = "b:2"});
  ctx = without.NewContext(absl::InfiniteDuration());
  EXPECT_EQ(ctx->deadline(), std::chrono::system_clock::time_point::max());
}

}  // namespace
}  // namespace shapin::cli

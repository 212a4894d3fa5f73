// The auth interceptor in a real gRPC server (GrpcServer on port 0) with a
// small BuildService: calls without or with bad credentials, with the wrong
// role, with the right one, health open, and a handler that forgot its check.
#include "common/auth/call_auth.h"

#include <memory>

#include "common/auth/testing/echo_build_service.h"
#include "common/auth/token_hash.h"
#include "common/grpc_server.h"
#include "common/grpc_status.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::auth {
namespace {

using ::shapin::auth::testing::EchoBuildService;

using ::testing::HasSubstr;
using ::testing::Not;

class CallAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = std::make_shared<AuthPolicy>();
    absl::StatusOr<IdentityRegistry> ids = IdentityRegistry::LoadText(
        "tokens:\n"
        "  - {name: ci-bot, sha256: " +
            TokenSha256Hex("builder-token") +
            ", roles: [builder, viewer]}\n"
            "  - {name: watcher, sha256: " +
            TokenSha256Hex("viewer-token") + ", roles: [viewer]}\n",
        "test");
    ASSERT_TRUE(ids.ok()) << ids.status();
    policy->identities = *std::move(ids);
    StartServer(policy);
  }

  void StartServer(std::shared_ptr<const AuthPolicy> policy) {
    server_.reset();
    absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(
        {.listen = "127.0.0.1:0", .auth = std::move(policy)},
        {{&service_, shapin::v1::BuildService::service_full_name()}}, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = shapin::v1::BuildService::NewStub(channel_);
  }

  grpc::Status Submit(const std::string& authorization,
                      shapin::v1::Build* reply) {
    grpc::ClientContext ctx;
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    shapin::v1::SubmitBuildRequest request;
    request.set_requested_by("someone-else");  // never trusted
    return stub_->SubmitBuild(&ctx, request, reply);
  }

  prometheus::Registry metrics_;
  EchoBuildService service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<shapin::v1::BuildService::Stub> stub_;
};

TEST_F(CallAuthTest, RightRoleRunsTheHandlerAsTheTokensIdentity) {
  shapin::v1::Build reply;
  grpc::Status s = Submit("Bearer builder-token", &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.requested_by(), "ci-bot");
  // The scheme is case-insensitive (RFC 7235).
  s = Submit("bearer builder-token", &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(CallAuthTest, MissingOrUnknownCredentialsAreUnauthenticated) {
  struct Case {
    std::string authorization;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"", "no credentials: send the metadata \"authorization\""},
           {"Bearer wrong-token", "unknown token"},
           {"Basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "expected \"Bearer\" and a token"},
           {"Bearer ", "expected \"Bearer\" and a token"},
       }) {
    SCOPED_TRACE(c.authorization);
    shapin::v1::Build reply;
    grpc::Status s = Submit(c.authorization, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(s.error_message(), HasSubstr(c.want));
    EXPECT_THAT(s.error_message(), Not(HasSubstr("wrong-token")));
  }
}

TEST_F(CallAuthTest, WrongRoleIsPermissionDeniedNamingTheRole) {
  shapin::v1::Build reply;
  grpc::Status s = Submit("Bearer viewer-token", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "caller \"watcher\" lacks role builder (needed for SubmitBuild)");
}

TEST_F(CallAuthTest, AHandlerWithoutTheCheckStillCannotAnswer) {
  grpc::ClientContext ctx;
  shapin::v1::Image reply;
  grpc::Status s = stub_->GetImage(&ctx, {}, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(reply.digest(), "");
}

TEST_F(CallAuthTest, HealthIsOpen) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckResponse reply;
  grpc::Status s = health->Check(&ctx, {}, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(CallAuthTest, WithoutRequiredAuthAnonymousMayCallButBadTokensMayNot) {
  auto policy = std::make_shared<AuthPolicy>();
  policy->required = false;
  StartServer(policy);
  shapin::v1::Build reply;
  grpc::Status s = Submit("", &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.requested_by(), "anonymous");
  s = Submit("Bearer not-configured", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(CallAuthTest, NoPolicyRefusesEverything) {
  StartServer(nullptr);
  shapin::v1::Build reply;
  EXPECT_EQ(Submit("Bearer builder-token", &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(AuthenticateTest, ClientCertificateCommonNameMapsToItsIdentity) {
  AuthPolicy policy;
  absl::StatusOr<IdentityRegistry> ids = IdentityRegistry::LoadText(
      "client_certificates:\n"
      "  - {common_name: bot.example.org, name: bot, roles: [deployer]}\n",
      "test");
  ASSERT_TRUE(ids.ok()) << ids.status();
  policy.identities = *std::move(ids);
  absl::StatusOr<Identity> who = AuthorizeCall(
      policy, "/shapin.v1.DeployService/Deploy",
      {.authorization = std::nullopt, .client_common_name = "bot.example.org"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name, "bot");
  absl::StatusOr<Identity> stranger = AuthorizeCall(
      policy, "/shapin.v1.DeployService/Deploy",
      {.authorization = std::nullopt, .client_common_name = "evil.example"});
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kUnauthenticated);
  absl::StatusOr<Identity> reads = AuthorizeCall(
      policy, "/shapin.v1.DeployService/GetCurrent",
      {.authorization = std::nullopt, .client_common_name = "bot.example.org"});
  EXPECT_EQ(reads.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(reads.status().message()),
              HasSubstr("lacks role viewer"));
}

TEST(RequireRoleTest, NamesTheMissingRoleAndWhatNeedsIt) {
  Identity deployer{"ci", *ParseRoles({"deployer"})};
  absl::Status s =
      RequireRole(deployer, Role::kOperator, "Deploy with override_hold");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "caller \"ci\" lacks role operator (needed for Deploy with "
            "override_hold)");
  EXPECT_TRUE(RequireRole(deployer, Role::kDeployer, "Deploy").ok());
}

}  // namespace
}  // namespace shapin::auth

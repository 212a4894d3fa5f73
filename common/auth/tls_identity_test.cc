// The gRPC listener over TLS (GrpcServer with server.tls.*): a client that
// trusts the CA calls with a bearer token; with a client CA, a verified
// client certificate's CN is the caller's identity; a plaintext client
// cannot talk to it at all.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/auth/call_auth.h"
#include "common/auth/testing/echo_build_service.h"
#include "common/auth/token_hash.h"
#include "common/grpc_server.h"
#include "common/grpc_status.h"
#include "common/registry/testing/registry_server.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::auth {
namespace {

using ::shapin::auth::testing::EchoBuildService;

using registry::testing::MakeTestCertificates;
using registry::testing::RunTool;
using registry::testing::TempDir;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TlsIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("shapin-tls-identity");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    const std::filesystem::path d = dir_->path();
    ASSERT_TRUE(MakeTestCertificates(d).ok());
    // A client certificate signed by the same CA.
    auto p = [&](const char* f) { return (d / f).string(); };
    ASSERT_TRUE(RunTool({"openssl", "req", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                         p("client.key"), "-out", p("client.csr"), "-subj",
                         "/CN=deploy-bot.example.org"})
                    .ok());
    std::ofstream(d / "client.ext") << "extendedKeyUsage=clientAuth\n";
    ASSERT_TRUE(
        RunTool({"openssl", "x509", "-req", "-in", p("client.csr"), "-CA",
                 p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out",
                 p("client.pem"), "-days", "2", "-extfile", p("client.ext")})
            .ok());
    ca_ = ReadFile(d / "ca.pem");

    auto policy = std::make_shared<AuthPolicy>();
    absl::StatusOr<IdentityRegistry> ids = IdentityRegistry::LoadText(
        "tokens:\n  - {name: ci, sha256: " + TokenSha256Hex("tls-token") +
            ", roles: [builder]}\n"
            "client_certificates:\n"
            "  - {common_name: deploy-bot.example.org, name: deploy-bot, "
            "roles: [builder]}\n",
        "test");
    ASSERT_TRUE(ids.ok()) << ids.status();
    policy->identities = *std::move(ids);
    absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(
        {.listen = "127.0.0.1:0",
         .auth = policy,
         .tls = {.cert_chain = ReadFile(d / "server.pem"),
                 .private_key = ReadFile(d / "server.key"),
                 .client_ca = ca_}},
        {{&service_, shapin::v1::BuildService::service_full_name()}}, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  grpc::Status Submit(std::shared_ptr<grpc::ChannelCredentials> creds,
                      const std::string& token, shapin::v1::Build* reply) {
    auto stub = shapin::v1::BuildService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    return stub->SubmitBuild(&ctx, {}, reply);
  }

  prometheus::Registry metrics_;
  EchoBuildService service_;
  std::unique_ptr<TempDir> dir_;
  std::string ca_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(TlsIdentityTest, BearerTokenOverTls) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ca_;
  shapin::v1::Build reply;
  grpc::Status s = Submit(grpc::SslCredentials(o), "tls-token", &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.requested_by(), "ci");
  // TLS alone is no credential.
  s = Submit(grpc::SslCredentials(o), "", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TlsIdentityTest, ClientCertificateCommonNameIsTheIdentity) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ca_;
  o.pem_private_key = ReadFile(dir_->path() / "client.key");
  o.pem_cert_chain = ReadFile(dir_->path() / "client.pem");
  shapin::v1::Build reply;
  grpc::Status s = Submit(grpc::SslCredentials(o), "", &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.requested_by(), "deploy-bot");
}

TEST_F(TlsIdentityTest, PlaintextClientCannotConnect) {
  shapin::v1::Build reply;
  grpc::Status s =
      Submit(grpc::InsecureChannelCredentials(), "tls-token", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

}  // namespace
}  // namespace shapin::auth

#include "common/auth/identity_registry.h"

#include "common/auth/token_hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TokensYaml() {
  return "tokens:\n"
         "  - name: ci\n"
         "    sha256: " +
         TokenSha256Hex("ci-secret") +
         "\n"
         "    roles: [builder, viewer]\n"
         "  - name: ops\n"
         "    sha256: " +
         TokenSha256Hex("ops-secret") +
         "\n"
         "    roles: [operator, deployer, viewer]\n"
         "client_certificates:\n"
         "  - common_name: deploy-bot.example.org\n"
         "    name: deploy-bot\n"
         "    roles: [deployer]\n";
}

TEST(IdentityRegistryTest, FindsIdentitiesByTokenAndCommonName) {
  absl::StatusOr<IdentityRegistry> ids =
      IdentityRegistry::LoadText(TokensYaml(), "tokens.yaml");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->token_count(), 2u);
  EXPECT_EQ(ids->certificate_count(), 1u);

  std::optional<Identity> ci = ids->FindByToken("ci-secret");
  ASSERT_TRUE(ci.has_value());
  EXPECT_EQ(ci->name, "ci");
  EXPECT_EQ(ci->roles.ToString(), "builder,viewer");
  std::optional<Identity> ops = ids->FindByToken("ops-secret");
  ASSERT_TRUE(ops.has_value());
  EXPECT_EQ(ops->name, "ops");

  EXPECT_FALSE(ids->FindByToken("ci-secreT").has_value());
  EXPECT_FALSE(ids->FindByToken("").has_value());
  // The stored digest itself is not a token.
  EXPECT_FALSE(ids->FindByToken(TokenSha256Hex("ci-secret")).has_value());

  std::optional<Identity> bot = ids->FindByCommonName("deploy-bot.example.org");
  ASSERT_TRUE(bot.has_value());
  EXPECT_EQ(bot->name, "deploy-bot");
  EXPECT_FALSE(ids->FindByCommonName("other.example.org").has_value());
}

TEST(IdentityRegistryTest, EmptyFileHasNoIdentities) {
  absl::StatusOr<IdentityRegistry> ids = IdentityRegistry::LoadText("", "t");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_TRUE(ids->empty());
}

TEST(IdentityRegistryTest, MalformedEntriesAreRefusedNamingThem) {
  const std::string hex = TokenSha256Hex("x");
  struct Case {
    std::string yaml;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"tokens:\n  - {name: ci, sha256: plain-token, roles: [viewer]}\n",
            "t.yaml: tokens[0]: sha256: must be the token's SHA-256"},
           {"tokens:\n  - {name: ci, sha256: " + hex + ", roles: [root]}\n",
            "tokens[0]: roles: unknown role \"root\""},
           {"tokens:\n  - {name: ci, sha256: " + hex + ", roles: []}\n",
            "tokens[0]: roles: must list at least one role"},
           {"tokens:\n  - {name: 'a b', sha256: " + hex +
                ", roles: [viewer]}\n",
            "tokens[0]: name: must be 1 to 64"},
           {"tokens:\n  - {name: ci, sha256: " + hex +
                ", roles: [viewer], token: x}\n",
            "tokens[0]: unknown key \"token\""},
           {"tokens:\n  - {name: a, sha256: " + hex +
                ", roles: [viewer]}\n  - {name: b, sha256: " + hex +
                ", roles: [viewer]}\n",
            "tokens[1]: sha256: the same token is listed twice"},
           {"tokens:\n  - {name: a, sha256: " + hex +
                ", roles: [viewer]}\nclient_certificates:\n  - {name: a, "
                "common_name: x, roles: [viewer]}\n",
            "client_certificates[0]: name \"a\" is used twice"},
           {"users: []\n", "unknown key \"users\""},
           {"tokens: [\n", "not valid YAML"},
       }) {
    SCOPED_TRACE(c.yaml);
    absl::StatusOr<IdentityRegistry> ids =
        IdentityRegistry::LoadText(c.yaml, "t.yaml");
    ASSERT_FALSE(ids.ok());
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(ids.status().message()), HasSubstr(c.want));
  }
}

TEST(IdentityRegistryTest, ErrorsNeverQuoteTheTokenField) {
  absl::StatusOr<IdentityRegistry> ids = IdentityRegistry::LoadText(
      "tokens:\n  - {name: ci, sha256: s3cr3t-raw-token, roles: [viewer]}\n",
      "t.yaml");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(std::string(ids.status().message()),
              Not(HasSubstr("s3cr3t-raw-token")));
}

TEST(IdentityRegistryTest, UnreadableFileIsNotFound) {
  absl::StatusOr<IdentityRegistry> ids =
      IdentityRegistry::LoadFile("/nonexistent/shapin-tokens.yaml");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shapin::auth

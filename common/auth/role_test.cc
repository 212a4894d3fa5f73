#include "common/auth/role.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::auth {
namespace {

using ::testing::HasSubstr;

TEST(RoleTest, ParsesKnownRolesAndNamesThem) {
  absl::StatusOr<RoleSet> set = ParseRoles({"viewer", "builder"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->Has(Role::kBuilder));
  EXPECT_TRUE(set->Has(Role::kViewer));
  EXPECT_FALSE(set->Has(Role::kDeployer));
  EXPECT_FALSE(set->Has(Role::kOperator));
  EXPECT_EQ(set->ToString(), "builder,viewer");
  EXPECT_EQ(RoleSet::All().ToString(), "builder,deployer,operator,viewer");
  EXPECT_TRUE(RoleSet().empty());
}

TEST(RoleTest, UnknownRoleIsRefusedListingTheAllowedOnes) {
  absl::StatusOr<RoleSet> set = ParseRoles({"viewer", "admin"});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(set.status().message()),
              HasSubstr("unknown role \"admin\" (allowed: builder, deployer, "
                        "operator, viewer)"));
}

}  // namespace
}  // namespace shapin::auth

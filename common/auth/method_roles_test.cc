#include "common/auth/method_roles.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "shapin/v1/build.grpc.pb.h"
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::auth {
namespace {

// Every RPC of the API, read from the proto services themselves.
std::set<std::string> ProtoMethods() {
  std::set<std::string> methods;
  for (const char* name : {shapin::v1::BuildService::service_full_name(),
                           shapin::v1::DeployService::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    EXPECT_NE(service, nullptr) << name;
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      methods.insert(absl::StrCat("/", name, "/", service->method(i)->name()));
    }
  }
  return methods;
}

TEST(MethodRolesTest, EveryProtoMethodHasExactlyTheRulesInTheTable) {
  // Referencing a message links its descriptor into the generated pool.
  shapin::v1::DeployRequest deploy;
  shapin::v1::SubmitBuildRequest build;
  const std::set<std::string> proto = ProtoMethods();
  ASSERT_GE(proto.size(), 15u);
  for (const std::string& m : proto) {
    EXPECT_TRUE(RequiredRole(m).has_value())
        << m << " has no rule in common/auth/method_roles.cc";
  }
  for (const std::string& m : MethodsWithRules()) {
    EXPECT_EQ(proto.count(m), 1u) << m << " is in the table but not the API";
  }
}

TEST(MethodRolesTest, RolesFollowTheIssue) {
  struct Case {
    const char* method;
    Role role;
  };
  for (const Case& c : {
           Case{"/shapin.v1.BuildService/SubmitBuild", Role::kBuilder},
           Case{"/shapin.v1.BuildService/CancelBuild", Role::kBuilder},
           Case{"/shapin.v1.DeployService/Deploy", Role::kDeployer},
           Case{"/shapin.v1.DeployService/Rollback", Role::kOperator},
           Case{"/shapin.v1.DeployService/ReleaseHold", Role::kOperator},
           Case{"/shapin.v1.BuildService/ListBuilds", Role::kViewer},
           Case{"/shapin.v1.DeployService/GetCurrent", Role::kViewer},
       }) {
    SCOPED_TRACE(c.method);
    ASSERT_TRUE(RequiredRole(c.method).has_value());
    EXPECT_EQ(*RequiredRole(c.method), c.role);
  }
  EXPECT_FALSE(RequiredRole("/shapin.v1.BuildService/DeleteEverything"));
}

TEST(MethodRolesTest, OnlyHealthAndReflectionAreOpen) {
  EXPECT_TRUE(IsOpenMethod("/grpc.health.v1.Health/Check"));
  EXPECT_TRUE(IsOpenMethod("/grpc.health.v1.Health/Watch"));
  EXPECT_TRUE(IsOpenMethod(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
  EXPECT_FALSE(IsOpenMethod("/shapin.v1.BuildService/ListBuilds"));
  EXPECT_FALSE(IsOpenMethod("/grpc.health.v1.HealthX/Check"));
}

}  // namespace
}  // namespace shapin::auth

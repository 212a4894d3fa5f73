// The roles a caller may hold and the set of them an identity carries.
//
// builder: SubmitBuild, CancelBuild. deployer: Deploy. operator: Rollback,
// ReleaseHold, Deploy with override_hold. viewer: every read.
//
//   absl::StatusOr<RoleSet> roles = ParseRoles({"builder", "viewer"});
//   roles->Has(Role::kBuilder);  // true
#ifndef SHAPIN_COMMON_AUTH_ROLE_H_
#define SHAPIN_COMMON_AUTH_ROLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shapin::auth {

enum class Role : uint8_t { kBuilder, kDeployer, kOperator, kViewer };

// "builder", "deployer", "operator", "viewer".
absl::string_view RoleName(Role role);

// A small value set of roles.
class RoleSet {
 public:
  RoleSet() = default;
  static RoleSet All();

  void Add(Role role) { bits_ |= Bit(role); }
  bool Has(Role role) const { return (bits_ & Bit(role)) != 0; }
  bool empty() const { return bits_ == 0; }
  // Role names in declaration order, comma-separated ("builder,viewer").
  std::string ToString() const;

 private:
  static uint8_t Bit(Role role) { return uint8_t{1} << static_cast<int>(role); }
  uint8_t bits_ = 0;
};

// INVALID_ARGUMENT naming the unknown role and the allowed ones.
absl::StatusOr<RoleSet> ParseRoles(const std::vector<std::string>& names);

}  // namespace shapin::auth

#endif  // SHAPIN_COMMON_AUTH_ROLE_H_

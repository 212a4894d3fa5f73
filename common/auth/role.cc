#include "common/auth/role.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shapin::auth {
namespace {

constexpr std::array<Role, 4> kRoles = {Role::kBuilder, Role::kDeployer,
                                        Role::kOperator, Role::kViewer};

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kBuilder:
      return "builder";
    case Role::kDeployer:
      return "deployer";
    case Role::kOperator:
      return "operator";
    case Role::kViewer:
      return "viewer";
  }
  return "unknown";
}

RoleSet RoleSet::All() {
  RoleSet all;
  for (Role r : kRoles) all.Add(r);
  return all;
}

std::string RoleSet::ToString() const {
  std::vector<absl::string_view> names;
  for (Role r : kRoles) {
    if (Has(r)) names.push_back(RoleName(r));
  }
  return absl::StrJoin(names, ",");
}

absl::StatusOr<RoleSet> ParseRoles(const std::vector<std::string>& names) {
  RoleSet set;
  for (const std::string& name : names) {
    bool known = false;
    for (Role r : kRoles) {
      if (name == RoleName(r)) {
        set.Add(r);
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown role \"", name.substr(0, 64),
                       "\" (allowed: builder, deployer, operator, viewer)"));
    }
  }
  return set;
}

}  // namespace shapin::auth

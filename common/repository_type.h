// RepositoryType: canonical (protected branches; deployable) or staging.
//
// Stored as the strings "canonical" / "staging" in the database.
#ifndef SHAPIN_COMMON_REPOSITORY_TYPE_H_
#define SHAPIN_COMMON_REPOSITORY_TYPE_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace shapin {

enum class RepositoryType { kCanonical, kStaging };

absl::string_view RepositoryTypeName(RepositoryType type);
std::optional<RepositoryType> ParseRepositoryType(absl::string_view name);

}  // namespace shapin

#endif  // SHAPIN_COMMON_REPOSITORY_TYPE_H_

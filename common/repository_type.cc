#include "common/repository_type.h"

namespace shapin {

absl::string_view RepositoryTypeName(RepositoryType type) {
  return type == RepositoryType::kCanonical ? "canonical" : "staging";
}

std::optional<RepositoryType> ParseRepositoryType(absl::string_view name) {
  if (name == "canonical") return RepositoryType::kCanonical;
  if (name == "staging") return RepositoryType::kStaging;
  return std::nullopt;
}

}  // namespace shapin

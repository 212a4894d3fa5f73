// What a repository's tag points at, with "no such tag" as a value rather
// than an error: both services ask this before deciding anything.
#ifndef SHAPIN_COMMON_TAG_LOOKUP_H_
#define SHAPIN_COMMON_TAG_LOOKUP_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/registry/registry_client.h"

namespace shapin {

// Unset when `repository:tag` does not exist; other registry errors pass.
absl::StatusOr<std::optional<Digest>> LookUpTag(
    registry::RegistryClient& client, const std::string& repository,
    absl::string_view tag);

}  // namespace shapin

#endif  // SHAPIN_COMMON_TAG_LOOKUP_H_

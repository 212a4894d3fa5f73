// ImageResolver: what deploy-svc asks a registry (read-only): which digest
// a SHA tag points at. One HEAD, no pull, so a missing tag fails fast.
#ifndef SHAPIN_DEPLOY_SVC_IMAGE_RESOLVER_H_
#define SHAPIN_DEPLOY_SVC_IMAGE_RESOLVER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace shapin::deploy {

class ImageResolver {
 public:
  virtual ~ImageResolver() = default;
  // Unset when the tag does not exist; UNAVAILABLE (or other) when the
  // registry cannot say.
  virtual absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) = 0;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_IMAGE_RESOLVER_H_

// RegistryImageResolver: ImageResolver over a read-only registry client.
#ifndef SHAPIN_DEPLOY_SVC_ADAPTERS_REGISTRY_IMAGE_RESOLVER_H_
#define SHAPIN_DEPLOY_SVC_ADAPTERS_REGISTRY_IMAGE_RESOLVER_H_

#include "common/registry/registry_client.h"
#include "common/tag_lookup.h"
#include "deploy-svc/image_resolver.h"

namespace shapin::deploy {

class RegistryImageResolver : public ImageResolver {
 public:
  // `client` must outlive the resolver; deploy-svc's is read-only.
  explicit RegistryImageResolver(registry::RegistryClient& client)
      : client_(client) {}
  absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) override {
    return LookUpTag(client_, repository, tag);
  }

 private:
  registry::RegistryClient& client_;
};

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_ADAPTERS_REGISTRY_IMAGE_RESOLVER_H_

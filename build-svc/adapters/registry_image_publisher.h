// RegistryImagePublisher: ImagePublisher over the project's registry client;
// its streams are RegistryRelays (adapters/registry_relay.h).
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_IMAGE_PUBLISHER_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_IMAGE_PUBLISHER_H_

#include "build-svc/image_publisher.h"
#include "common/registry/registry_client.h"

namespace shapin::build {

class RegistryImagePublisher : public ImagePublisher {
 public:
  // `client` must outlive the publisher and must not be read-only.
  explicit RegistryImagePublisher(registry::RegistryClient& client)
      : client_(client) {}

  absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) override;
  absl::StatusOr<Digest> PushByDigest(const std::string& layout_dir,
                                      const std::string& repository) override;
  // A RegistryRelay on loopback for the builder to push to.
  absl::StatusOr<std::unique_ptr<ImageStream>> OpenStream(
      const std::string& repository) override;
  absl::StatusOr<Digest> Tag(const std::string& repository,
                             const Digest& digest,
                             absl::string_view tag) override;

 private:
  registry::RegistryClient& client_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_REGISTRY_IMAGE_PUBLISHER_H_

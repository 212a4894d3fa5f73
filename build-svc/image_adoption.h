// ImageAdoption: an operator vouches for a SHA tag build-svc did not
// publish (AdoptImage). build-svc never trusts such a tag by itself — a
// build verifies it by rebuilding, and fails DIGEST_MISMATCH when the commit
// builds to something else — so when a person has inspected the image and
// decides it is the commit's, this records it: registry facts checked
// against what they named (publish_policy.h CheckAdoption), then the image
// row (origin "adopted", signature_status "unsigned": build-svc does not
// sign what it did not build) and an `image_adopted` event in one
// transaction, and a WARNING log line.
//
//   ImageAdoption adoption(store, publisher, tag_config);
//   absl::StatusOr<ImageRecord> image = adoption.Adopt(
//       {.sha = sha, .type = RepositoryType::kCanonical, .digest = d,
//        .reason = "pushed by the release team before shapin", .by = "ops"});
#ifndef SHAPIN_BUILD_SVC_IMAGE_ADOPTION_H_
#define SHAPIN_BUILD_SVC_IMAGE_ADOPTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "build-svc/build_record.h"
#include "build-svc/build_store.h"
#include "build-svc/image_publisher.h"
#include "build-svc/tag_policy.h"

namespace shapin::build {

struct AdoptionRequest {
  GitSha sha;
  RepositoryType type = RepositoryType::kCanonical;
  Digest digest;  // what the operator inspected
  std::string reason;
  std::string by;  // the authenticated operator
};

class ImageAdoption {
 public:
  // References must outlive the adoption.
  ImageAdoption(BuildStore& store, ImagePublisher& registry,
                TagPolicyConfig repositories)
      : store_(store),
        registry_(registry),
        repositories_(std::move(repositories)) {}

  // The adopted image as recorded. Errors: CheckAdoption's, the store's
  // (FAILED_PRECONDITION while a build of the SHA runs), UNAVAILABLE when
  // the registry cannot say what the tags point at.
  absl::StatusOr<ImageRecord> Adopt(const AdoptionRequest& request);

 private:
  BuildStore& store_;
  ImagePublisher& registry_;
  const TagPolicyConfig repositories_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_IMAGE_ADOPTION_H_

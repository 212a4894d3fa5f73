// BuildStore: where build-svc keeps builds and published images.
//
// Speaks domain types only; the PostgreSQL implementation lives in
// adapters/postgres_build_store.h. Errors: NOT_FOUND for a missing build or
// image, UNAVAILABLE when the database cannot be reached (retry the call).
#ifndef SHAPIN_BUILD_SVC_BUILD_STORE_H_
#define SHAPIN_BUILD_SVC_BUILD_STORE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "build-svc/build_record.h"
#include "common/pagination.h"

namespace shapin::build {

struct BuildFilter {
  std::optional<GitSha> git_sha = std::nullopt;
  std::string branch = "";  // empty = any
};

class BuildStore {
 public:
  virtual ~BuildStore() = default;

  // Newest first.
  virtual absl::StatusOr<Page<BuildRecord>> ListBuilds(
      const BuildFilter& filter, const PageRequest& page) = 0;
  virtual absl::StatusOr<BuildRecord> GetBuild(int64_t build_id) = 0;
  // The image published for `sha` in the repository of that type.
  virtual absl::StatusOr<ImageRecord> GetImage(const GitSha& sha,
                                               RepositoryType type) = 0;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_STORE_H_

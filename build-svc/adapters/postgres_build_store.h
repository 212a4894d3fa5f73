// PostgresBuildStore: BuildStore on the shared PostgreSQL schema
// (common/schema_migrations.cc: tables builds and images).
#ifndef SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_STORE_H_
#define SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_STORE_H_

#include "build-svc/build_store.h"
#include "common/postgres_pool.h"

namespace shapin::build {

class PostgresBuildStore : public BuildStore {
 public:
  // `pool` must outlive the store.
  explicit PostgresBuildStore(PostgresPool& pool) : pool_(pool) {}

  absl::StatusOr<Page<BuildRecord>> ListBuilds(
      const BuildFilter& filter, const PageRequest& page) override;
  absl::StatusOr<BuildRecord> GetBuild(int64_t build_id) override;
  absl::StatusOr<ImageRecord> GetImage(const GitSha& sha,
                                       RepositoryType type) override;

 private:
  PostgresPool& pool_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_STORE_H_

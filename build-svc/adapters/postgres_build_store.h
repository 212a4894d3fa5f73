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
  absl::StatusOr<std::optional<ImageRecord>> RecordedImage(
      const std::string& repository, const GitSha& sha) override;
  absl::Status AdoptImage(const ImageRecord& image,
                          const std::string& adopted_by,
                          const std::string& reason) override;
  absl::StatusOr<std::vector<LogLine>> LogsSince(int64_t build_id,
                                                 int after_seq,
                                                 int limit) override;
  absl::StatusOr<int64_t> QueueDepth() override;

  absl::StatusOr<BuildRecord> Enqueue(const NewBuild& build) override;
  absl::StatusOr<std::optional<BuildRecord>> Claim(
      const std::string& worker, absl::Duration lease) override;
  absl::Status ConfirmLease(int64_t build_id, int64_t lease_token,
                            absl::Duration lease) override;
  absl::Status RecordPublication(int64_t build_id, int64_t lease_token,
                                 const ImageRecord& image) override;
  absl::StatusOr<bool> Heartbeat(int64_t build_id, const std::string& worker,
                                 absl::Duration lease) override;
  absl::Status SetPhase(int64_t build_id, const std::string& worker,
                        absl::string_view phase) override;
  absl::Status AppendLog(int64_t build_id,
                         const std::vector<std::string>& lines,
                         absl::string_view tail) override;
  absl::Status Finish(const std::string& worker,
                      const BuildResult& result) override;
  absl::StatusOr<int> ReapExpired(int max_attempts) override;
  absl::StatusOr<int> EndLeasesOf(const std::string& worker) override;
  absl::StatusOr<BuildRecord> RequestCancel(
      int64_t build_id, const std::string& requested_by) override;
  absl::Status RecordEvent(const BuildEventRecord& event) override;

 private:
  PostgresPool& pool_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_ADAPTERS_POSTGRES_BUILD_STORE_H_

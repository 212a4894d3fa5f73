#include "build-svc/adapters/postgres_build_store.h"

#include "absl/strings/str_cat.h"
#include "common/postgres_rows.h"
#include "common/status_macros.h"
#include "pqxx/pqxx"

namespace shapin::build {
namespace {

constexpr char kBuildColumns[] =
    "build_id, git_sha, branch, source_url, dockerfile, context, rebuild, "
    "repository, repository_type, state, outcome, error_code, error_message, "
    "digest, pre_push_digest, post_push_digest, digest_verification, platform, "
    "signature_status, provenance_ref, sbom_ref, log_tail, requested_by, "
    "extract(epoch from created_at), extract(epoch from started_at), "
    "extract(epoch from finished_at), build_duration_seconds, "
    "push_duration_seconds";

absl::StatusOr<BuildRecord> BuildFromRow(const pqxx::row& row) {
  SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, 1));
  BuildRecord b(sha);
  b.build_id = row[0].as<int64_t>();
  b.branch = row[2].as<std::string>();
  b.source_url = row[3].as<std::string>();
  b.dockerfile = row[4].as<std::string>();
  b.context = row[5].as<std::string>();
  b.rebuild = row[6].as<bool>();
  b.repository = row[7].as<std::string>();
  SHAPIN_ASSIGN_OR_RETURN(b.repository_type, RepositoryTypeColumn(row, 8));
  std::optional<BuildState> state = ParseBuildState(row[9].as<std::string>());
  if (!state) return CorruptColumn(row, 9);
  b.state = *state;
  if (!row[10].is_null()) {
    b.outcome = ParseBuildOutcome(row[10].as<std::string>());
    if (!b.outcome) return CorruptColumn(row, 10);
  }
  b.error_code = TextColumn(row, 11);
  b.error_message = TextColumn(row, 12);
  SHAPIN_ASSIGN_OR_RETURN(b.digest, OptionalDigestColumn(row, 13));
  SHAPIN_ASSIGN_OR_RETURN(b.pre_push_digest, OptionalDigestColumn(row, 14));
  SHAPIN_ASSIGN_OR_RETURN(b.post_push_digest, OptionalDigestColumn(row, 15));
  b.digest_verification = TextColumn(row, 16);
  b.platform = row[17].as<std::string>();
  b.signature_status = TextColumn(row, 18);
  b.provenance_ref = TextColumn(row, 19);
  b.sbom_ref = TextColumn(row, 20);
  b.log_tail = row[21].as<std::string>();
  b.requested_by = row[22].as<std::string>();
  b.created_at = *OptionalTimeColumn(row, 23);
  b.started_at = OptionalTimeColumn(row, 24);
  b.finished_at = OptionalTimeColumn(row, 25);
  b.build_duration_seconds = OptionalDoubleColumn(row, 26);
  b.push_duration_seconds = OptionalDoubleColumn(row, 27);
  return b;
}

}  // namespace

absl::StatusOr<Page<BuildRecord>> PostgresBuildStore::ListBuilds(
    const BuildFilter& filter, const PageRequest& page) {
  Page<BuildRecord> result;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    // NULL parameters disable their filter; each combination stays an index
    // range scan on (git_sha|branch, build_id).
    const std::optional<std::string> sha =
        filter.git_sha ? std::optional(filter.git_sha->str()) : std::nullopt;
    const std::optional<std::string> branch =
        filter.branch.empty() ? std::nullopt : std::optional(filter.branch);
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kBuildColumns,
                     " FROM builds"
                     " WHERE ($1::text IS NULL OR git_sha = $1)"
                     "   AND ($2::text IS NULL OR branch = $2)"
                     "   AND ($3::bigint IS NULL OR build_id < $3)"
                     " ORDER BY build_id DESC LIMIT $4"),
        sha, branch, page.before_id, page.page_size + 1);
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(result.items.size()) == page.page_size) {
        result.next_before_id = result.items.back().build_id;
        break;
      }
      SHAPIN_ASSIGN_OR_RETURN(BuildRecord b, BuildFromRow(row));
      result.items.push_back(std::move(b));
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<BuildRecord> PostgresBuildStore::GetBuild(int64_t build_id) {
  std::optional<BuildRecord> found;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    pqxx::result rows =
        tx.exec_params(absl::StrCat("SELECT ", kBuildColumns,
                                    " FROM builds WHERE build_id = $1"),
                       build_id);
    if (rows.empty()) return absl::OkStatus();
    SHAPIN_ASSIGN_OR_RETURN(BuildRecord b, BuildFromRow(rows[0]));
    found = std::move(b);
    return absl::OkStatus();
  }));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("build ", build_id, " not found"));
  }
  return *std::move(found);
}

absl::StatusOr<ImageRecord> PostgresBuildStore::GetImage(const GitSha& sha,
                                                         RepositoryType type) {
  std::optional<ImageRecord> found;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    pqxx::result rows = tx.exec_params(
        "SELECT repository, repository_type, git_sha, digest, size_bytes,"
        " platform, branch, build_id, extract(epoch from built_at),"
        " extract(epoch from commit_time), signature_status, provenance_ref,"
        " sbom_ref"
        " FROM images WHERE git_sha = $1 AND repository_type = $2"
        " ORDER BY image_id DESC LIMIT 1",
        sha.str(), std::string(RepositoryTypeName(type)));
    if (rows.empty()) return absl::OkStatus();
    const pqxx::row& row = rows[0];
    SHAPIN_ASSIGN_OR_RETURN(Digest digest, DigestColumn(row, 3));
    ImageRecord image(sha, digest);
    image.repository = row[0].as<std::string>();
    SHAPIN_ASSIGN_OR_RETURN(image.repository_type,
                            RepositoryTypeColumn(row, 1));
    if (!row[4].is_null()) image.size_bytes = row[4].as<int64_t>();
    image.platform = row[5].as<std::string>();
    image.branch = row[6].as<std::string>();
    if (!row[7].is_null()) image.build_id = row[7].as<int64_t>();
    image.built_at = *OptionalTimeColumn(row, 8);
    image.commit_time = OptionalTimeColumn(row, 9);
    image.signature_status = TextColumn(row, 10);
    image.provenance_ref = TextColumn(row, 11);
    image.sbom_ref = TextColumn(row, 12);
    found = std::move(image);
    return absl::OkStatus();
  }));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no ", RepositoryTypeName(type),
                                            " image recorded for ", sha.str()));
  }
  return *std::move(found);
}

}  // namespace shapin::build

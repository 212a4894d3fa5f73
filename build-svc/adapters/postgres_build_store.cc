#include "build-svc/adapters/postgres_build_store.h"

#include "absl/strings/str_cat.h"
#include "common/postgres_rows.h"
#include "common/prepared_statement.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
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
    "push_duration_seconds, phase, COALESCE(lease_token, 0)";

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
  b.phase = row[28].as<std::string>();
  b.lease_token = row[29].as<int64_t>();
  return b;
}

// The build `build_id` as seen by `tx`; NOT_FOUND when absent.
template <typename Tx>
absl::StatusOr<BuildRecord> SelectBuild(Tx& tx, int64_t build_id) {
  pqxx::result rows =
      tx.exec_params(absl::StrCat("SELECT ", kBuildColumns,
                                  " FROM builds WHERE build_id = $1"),
                     build_id);
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("build ", build_id, " not found"));
  }
  return BuildFromRow(rows[0]);
}

constexpr char kImageColumns[] =
    "repository, repository_type, git_sha, digest, size_bytes, platform,"
    " branch, build_id, extract(epoch from built_at),"
    " extract(epoch from commit_time), signature_status, provenance_ref,"
    " sbom_ref, origin, base_images::text";

std::string BaseImagesJson(const std::vector<BaseImage>& images) {
  nlohmann::json out = nlohmann::json::array();
  for (const BaseImage& b : images) {
    out.push_back({{"name", b.name}, {"digest", b.digest.str()}});
  }
  return out.dump();
}

absl::StatusOr<std::vector<BaseImage>> BaseImagesColumn(const pqxx::row& row,
                                                        int column) {
  nlohmann::json json =
      nlohmann::json::parse(row[column].as<std::string>(), nullptr, false);
  if (!json.is_array()) return CorruptColumn(row, column);
  std::vector<BaseImage> out;
  for (const nlohmann::json& b : json) {
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string() ||
        !b.contains("digest") || !b["digest"].is_string()) {
      return CorruptColumn(row, column);
    }
    absl::StatusOr<Digest> digest =
        Digest::Parse(b["digest"].get<std::string>());
    if (!digest.ok()) return CorruptColumn(row, column);
    out.push_back({b["name"].get<std::string>(), *digest});
  }
  return out;
}

absl::StatusOr<ImageRecord> ImageFromRow(const pqxx::row& row) {
  SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, 2));
  SHAPIN_ASSIGN_OR_RETURN(Digest digest, DigestColumn(row, 3));
  ImageRecord image(sha, digest);
  image.repository = row[0].as<std::string>();
  SHAPIN_ASSIGN_OR_RETURN(image.repository_type, RepositoryTypeColumn(row, 1));
  if (!row[4].is_null()) image.size_bytes = row[4].as<int64_t>();
  image.platform = row[5].as<std::string>();
  image.branch = row[6].as<std::string>();
  if (!row[7].is_null()) image.build_id = row[7].as<int64_t>();
  image.built_at = *OptionalTimeColumn(row, 8);
  image.commit_time = OptionalTimeColumn(row, 9);
  image.signature_status = TextColumn(row, 10);
  image.provenance_ref = TextColumn(row, 11);
  image.sbom_ref = TextColumn(row, 12);
  image.origin = row[13].as<std::string>();
  SHAPIN_ASSIGN_OR_RETURN(image.base_images, BaseImagesColumn(row, 14));
  return image;
}

std::optional<std::string> OptionalText(const std::optional<Digest>& d) {
  return d ? std::optional(d->str()) : std::nullopt;
}

std::optional<std::string> OptionalText(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional(s);
}

// Creates the image row, or gives an existing one (same digest) the
// signature fields `image` has; ALREADY_EXISTS when it is recorded with
// another digest. The first publication's build, branch and times stay.
absl::Status UpsertImage(pqxx::work& tx, int64_t build_id,
                         const ImageRecord& i) {
  pqxx::result written = tx.exec_params(
      "INSERT INTO images (repository, repository_type, git_sha, digest,"
      " size_bytes, platform, branch, build_id, commit_time,"
      " signature_status, provenance_ref, sbom_ref, base_images)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9), $10,"
      " $11, $12, $13::jsonb)"
      " ON CONFLICT (repository, git_sha) DO UPDATE SET"
      "  signature_status = COALESCE(EXCLUDED.signature_status,"
      "    images.signature_status),"
      "  provenance_ref = COALESCE(EXCLUDED.provenance_ref,"
      "    images.provenance_ref),"
      "  sbom_ref = COALESCE(EXCLUDED.sbom_ref, images.sbom_ref),"
      "  base_images = CASE WHEN images.base_images = '[]'"
      "    THEN EXCLUDED.base_images ELSE images.base_images END"
      " WHERE images.digest = EXCLUDED.digest RETURNING image_id",
      i.repository, std::string(RepositoryTypeName(i.repository_type)),
      i.git_sha.str(), i.digest.str(), i.size_bytes, i.platform, i.branch,
      build_id,
      i.commit_time ? std::optional(absl::ToUnixSeconds(*i.commit_time))
                    : std::nullopt,
      OptionalText(i.signature_status), OptionalText(i.provenance_ref),
      OptionalText(i.sbom_ref), BaseImagesJson(i.base_images));
  if (!written.empty()) return absl::OkStatus();
  pqxx::row existing = tx.exec_params1(
      "SELECT digest FROM images WHERE repository = $1 AND git_sha = $2",
      i.repository, i.git_sha.str());
  return absl::AlreadyExistsError(absl::StrCat(
      "image ", i.repository, ":", i.git_sha.str(), " is recorded with ",
      existing[0].as<std::string>(), ", not ", i.digest.str()));
}

absl::Status LeaseNotCurrent(int64_t build_id, int64_t lease_token) {
  return absl::FailedPreconditionError(
      absl::StrCat("build ", build_id, ": lease ", lease_token,
                   " is no longer current (released or claimed again)"));
}

// FAILED_PRECONDITION unless `lease_token` is the running build's current
// claim; locks the build row for the rest of `tx`.
absl::Status LockLeasedBuild(pqxx::work& tx, int64_t build_id,
                             int64_t lease_token) {
  pqxx::result rows = tx.exec_params(
      "SELECT 1 FROM builds WHERE build_id = $1 AND lease_token = $2"
      " AND state = 'running' FOR UPDATE",
      build_id, lease_token);
  if (rows.empty()) return LeaseNotCurrent(build_id, lease_token);
  return absl::OkStatus();
}

// A claim racing another for a build of the same (repository, SHA) loses
// on builds_one_running_per_sha; the retry sees the winner's row.
constexpr int kClaimAttempts = 3;

}  // namespace

absl::StatusOr<Page<BuildRecord>> PostgresBuildStore::ListBuilds(
    const BuildFilter& filter, const PageRequest& page) {
  Page<BuildRecord> result;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    // NULL parameters disable their filter; each combination stays an index
    // range scan on (git_sha|branch, build_id).
    const std::optional<std::string> sha =
        filter.git_sha ? std::optional(filter.git_sha->str()) : std::nullopt;
    const std::optional<std::string> branch =
        filter.branch.empty() ? std::nullopt : std::optional(filter.branch);
    pqxx::result rows =
        ExecPrepared(tx,
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
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    pqxx::result rows =
        ExecPrepared(tx,
                     absl::StrCat("SELECT ", kBuildColumns,
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
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    pqxx::result rows = ExecPrepared(
        tx,
        absl::StrCat("SELECT ", kImageColumns,
                     " FROM images WHERE git_sha = $1 AND repository_type = $2"
                     " ORDER BY image_id DESC LIMIT 1"),
        sha.str(), std::string(RepositoryTypeName(type)));
    if (rows.empty()) return absl::OkStatus();
    SHAPIN_ASSIGN_OR_RETURN(found, ImageFromRow(rows[0]));
    return absl::OkStatus();
  }));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no ", RepositoryTypeName(type),
                                            " image recorded for ", sha.str()));
  }
  return *std::move(found);
}

absl::StatusOr<std::optional<ImageRecord>> PostgresBuildStore::RecordedImage(
    const std::string& repository, const GitSha& sha) {
  std::optional<ImageRecord> found;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    pqxx::result rows = ExecPrepared(
        tx,
        absl::StrCat("SELECT ", kImageColumns,
                     " FROM images WHERE repository = $1 AND git_sha = $2"),
        repository, sha.str());
    if (rows.empty()) return absl::OkStatus();
    SHAPIN_ASSIGN_OR_RETURN(found, ImageFromRow(rows[0]));
    return absl::OkStatus();
  }));
  return found;
}

absl::Status PostgresBuildStore::AdoptImage(const ImageRecord& image,
                                            const std::string& adopted_by,
                                            const std::string& reason) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result running = tx.exec_params(
        "SELECT build_id FROM builds WHERE state = 'running'"
        " AND repository = $1 AND git_sha = $2",
        image.repository, image.git_sha.str());
    if (!running.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "build ", running[0][0].as<int64_t>(), " of ", image.git_sha.str(),
          " is running; wait for it or cancel it, then adopt"));
    }
    pqxx::result inserted = tx.exec_params(
        "INSERT INTO images (repository, repository_type, git_sha, digest,"
        " platform, branch, signature_status, origin)"
        " VALUES ($1, $2, $3, $4, $5, '', 'unsigned', 'adopted')"
        " ON CONFLICT (repository, git_sha) DO NOTHING RETURNING image_id",
        image.repository,
        std::string(RepositoryTypeName(image.repository_type)),
        image.git_sha.str(), image.digest.str(), image.platform);
    if (inserted.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat(image.repository, ":", image.git_sha.str(),
                       " was recorded meanwhile; nothing adopted"));
    }
    const std::string message = absl::StrCat(
        adopted_by, " adopted ", image.repository, ":", image.git_sha.str(),
        "@", image.digest.str(), ", which build-svc did not publish: ", reason);
    tx.exec_params(
        "INSERT INTO events (kind, severity, git_sha, repository, message,"
        " details) VALUES ('image_adopted', 'warning', $1, $2, $3,"
        " jsonb_build_object('adopted_by', $4::text, 'reason', $5::text,"
        " 'digest', $6::text))",
        image.git_sha.str(), image.repository, message, adopted_by, reason,
        image.digest.str());
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<LogLine>> PostgresBuildStore::LogsSince(
    int64_t build_id, int after_seq, int limit) {
  std::vector<LogLine> lines;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    pqxx::result rows = ExecPrepared(
        tx,
        "SELECT seq, line FROM build_logs WHERE build_id = $1 AND seq > $2"
        " ORDER BY seq LIMIT $3",
        build_id, after_seq, limit);
    for (const pqxx::row& row : rows) {
      lines.push_back({row[0].as<int>(), row[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return lines;
}

absl::StatusOr<int64_t> PostgresBuildStore::QueueDepth() {
  int64_t depth = 0;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    depth = ExecPrepared1(
                tx, "SELECT count(*) FROM builds WHERE state = 'queued'")[0]
                .as<int64_t>();
    return absl::OkStatus();
  }));
  return depth;
}

absl::StatusOr<BuildRecord> PostgresBuildStore::Enqueue(const NewBuild& b) {
  std::optional<BuildRecord> created;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    const int64_t id =
        tx.exec_params1(
              "INSERT INTO builds (git_sha, branch, source_url, dockerfile,"
              " context, rebuild, repository, repository_type, state,"
              " requested_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
              " 'queued', $9) RETURNING build_id",
              b.git_sha.str(), b.branch, b.source_url, b.dockerfile, b.context,
              b.rebuild, b.repository,
              std::string(RepositoryTypeName(b.repository_type)),
              b.requested_by)[0]
            .as<int64_t>();
    SHAPIN_ASSIGN_OR_RETURN(BuildRecord record, SelectBuild(tx, id));
    tx.commit();
    created = std::move(record);
    return absl::OkStatus();
  }));
  return *std::move(created);
}

absl::StatusOr<std::optional<BuildRecord>> PostgresBuildStore::Claim(
    const std::string& worker, absl::Duration lease) {
  absl::Status status;
  for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
    std::optional<BuildRecord> claimed;
    status = pool_.Run([&](pqxx::connection& c) -> absl::Status {
      pqxx::work tx(c);
      // No global lock: SKIP LOCKED keeps claimers off each other's rows,
      // and the unique index refuses a second running build of a SHA.
      pqxx::result rows = tx.exec_params(
          "WITH candidate AS ("
          "  SELECT b.build_id FROM builds b"
          "  WHERE b.state = 'queued' AND NOT b.cancel_requested"
          "    AND NOT EXISTS (SELECT 1 FROM builds r"
          "      WHERE r.state = 'running' AND r.repository = b.repository"
          "      AND r.git_sha = b.git_sha)"
          "  ORDER BY b.build_id LIMIT 1 FOR UPDATE SKIP LOCKED)"
          " UPDATE builds SET state = 'running', phase = 'fetching',"
          "  lease_owner = $1,"
          "  lease_expires_at = now() + make_interval(secs => $2),"
          "  lease_token = nextval('build_lease_tokens'),"
          "  attempts = attempts + 1, started_at = COALESCE(started_at, now())"
          " FROM candidate WHERE builds.build_id = candidate.build_id"
          " RETURNING builds.build_id",
          worker, absl::ToDoubleSeconds(lease));
      if (rows.empty()) return absl::OkStatus();
      SHAPIN_ASSIGN_OR_RETURN(BuildRecord record,
                              SelectBuild(tx, rows[0][0].as<int64_t>()));
      tx.commit();
      claimed = std::move(record);
      return absl::OkStatus();
    });
    if (status.ok()) return claimed;
    if (!absl::IsAlreadyExists(status)) break;
  }
  return status;
}

absl::Status PostgresBuildStore::ConfirmLease(int64_t build_id,
                                              int64_t lease_token,
                                              absl::Duration lease) {
  bool current = false;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result rows = tx.exec_params(
        "UPDATE builds SET lease_expires_at = now() + make_interval(secs => $3)"
        " WHERE build_id = $1 AND lease_token = $2 AND state = 'running'"
        " RETURNING build_id",
        build_id, lease_token, absl::ToDoubleSeconds(lease));
    tx.commit();
    current = !rows.empty();
    return absl::OkStatus();
  }));
  if (!current) return LeaseNotCurrent(build_id, lease_token);
  return absl::OkStatus();
}

absl::Status PostgresBuildStore::RecordPublication(int64_t build_id,
                                                   int64_t lease_token,
                                                   const ImageRecord& image) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    SHAPIN_RETURN_IF_ERROR(LockLeasedBuild(tx, build_id, lease_token));
    SHAPIN_RETURN_IF_ERROR(UpsertImage(tx, build_id, image));
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> PostgresBuildStore::Heartbeat(int64_t build_id,
                                                   const std::string& worker,
                                                   absl::Duration lease) {
  std::optional<bool> cancel;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result rows = tx.exec_params(
        "UPDATE builds SET lease_expires_at = now() + make_interval(secs => $3)"
        " WHERE build_id = $1 AND lease_owner = $2 AND state = 'running'"
        " RETURNING cancel_requested",
        build_id, worker, absl::ToDoubleSeconds(lease));
    tx.commit();
    if (!rows.empty()) cancel = rows[0][0].as<bool>();
    return absl::OkStatus();
  }));
  if (!cancel) {
    return absl::FailedPreconditionError(absl::StrCat(
        "build ", build_id, ": worker ", worker, " no longer holds its lease"));
  }
  return *cancel;
}

absl::Status PostgresBuildStore::SetPhase(int64_t build_id,
                                          const std::string& worker,
                                          absl::string_view phase) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE builds SET phase = $3 WHERE build_id = $1 AND lease_owner = $2",
        build_id, worker, std::string(phase));
    tx.commit();
    return absl::OkStatus();
  });
}

absl::Status PostgresBuildStore::AppendLog(
    int64_t build_id, const std::vector<std::string>& lines,
    absl::string_view tail) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    int seq = tx.exec_params1(
                    "SELECT COALESCE(MAX(seq), 0) FROM build_logs"
                    " WHERE build_id = $1",
                    build_id)[0]
                  .as<int>();
    for (const std::string& line : lines) {
      tx.exec_params(
          "INSERT INTO build_logs (build_id, seq, line) VALUES ($1, $2, $3)",
          build_id, ++seq, line);
    }
    tx.exec_params("UPDATE builds SET log_tail = $2 WHERE build_id = $1",
                   build_id, std::string(tail));
    tx.commit();
    return absl::OkStatus();
  });
}

absl::Status PostgresBuildStore::Finish(const std::string& worker,
                                        const BuildResult& r) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result updated = tx.exec_params(
        "UPDATE builds SET state = $3, phase = 'done', outcome = $4,"
        " error_code = $5, error_message = $6, digest = $7,"
        " pre_push_digest = $8, post_push_digest = $9,"
        " digest_verification = $10, build_duration_seconds = $11,"
        " push_duration_seconds = $12, log_tail = $13, finished_at = now(),"
        " lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL,"
        " signature_status = $14, provenance_ref = $15, sbom_ref = $16"
        " WHERE build_id = $1 AND lease_owner = $2 AND state = 'running'"
        " RETURNING git_sha",
        r.build_id, worker, std::string(BuildStateName(r.state)),
        r.outcome ? std::optional(std::string(BuildOutcomeName(*r.outcome)))
                  : std::nullopt,
        OptionalText(r.error_code), OptionalText(r.error_message),
        OptionalText(r.digest), OptionalText(r.pre_push_digest),
        OptionalText(r.post_push_digest), OptionalText(r.digest_verification),
        r.build_duration_seconds, r.push_duration_seconds, r.log_tail,
        OptionalText(r.signature_status), OptionalText(r.provenance_ref),
        OptionalText(r.sbom_ref));
    if (updated.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("build ", r.build_id, ": worker ", worker,
                       " no longer holds its lease; result not recorded"));
    }
    if (r.image) SHAPIN_RETURN_IF_ERROR(UpsertImage(tx, r.build_id, *r.image));
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<int> PostgresBuildStore::ReapExpired(int max_attempts) {
  int touched = 0;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    // A canceled build is not retried; one that used up its attempts fails.
    pqxx::result rows = tx.exec_params(
        "WITH expired AS ("
        "  SELECT build_id, attempts, cancel_requested FROM builds"
        "  WHERE state = 'running' AND lease_expires_at < now()"
        "  FOR UPDATE SKIP LOCKED),"
        " decided AS ("
        "  SELECT build_id, CASE WHEN cancel_requested THEN 'canceled'"
        "    WHEN attempts < $1 THEN 'queued' ELSE 'failed' END AS next,"
        "    attempts FROM expired)"
        " UPDATE builds b SET state = d.next,"
        "  phase = CASE WHEN d.next = 'queued' THEN 'queued' ELSE 'done' END,"
        "  lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL,"
        "  finished_at = CASE WHEN d.next = 'queued' THEN NULL ELSE now() END,"
        "  error_code = CASE WHEN d.next = 'failed' THEN 'BUILD_FAILURE'"
        "    ELSE b.error_code END,"
        "  error_message = CASE WHEN d.next = 'failed' THEN"
        "    'BUILD_FAILURE worker lost: lease expired after ' || d.attempts"
        "    || ' attempt(s)' WHEN d.next = 'canceled' THEN"
        "    'canceled; the worker was lost' ELSE b.error_message END"
        " FROM decided d WHERE b.build_id = d.build_id"
        " RETURNING b.build_id, b.state, b.git_sha, b.repository",
        max_attempts);
    for (const pqxx::row& row : rows) {
      const std::string state = row[1].as<std::string>();
      tx.exec_params(
          "INSERT INTO events (kind, severity, build_id, git_sha, repository,"
          " message) VALUES ($1, $2, $3, $4, $5, $6)",
          state == "queued" ? "build_requeued" : "build_abandoned",
          state == "failed" ? "error" : "warning", row[0].as<int64_t>(),
          row[2].as<std::string>(), row[3].as<std::string>(),
          absl::StrCat("lease expired; build ", state));
    }
    tx.commit();
    touched = static_cast<int>(rows.size());
    return absl::OkStatus();
  }));
  return touched;
}

absl::StatusOr<int> PostgresBuildStore::EndLeasesOf(const std::string& worker) {
  int ended = 0;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result rows = tx.exec_params(
        "UPDATE builds SET lease_expires_at = now() - interval '1 second'"
        " WHERE state = 'running' AND lease_owner = $1 RETURNING build_id",
        worker);
    tx.commit();
    ended = static_cast<int>(rows.size());
    return absl::OkStatus();
  }));
  return ended;
}

absl::StatusOr<BuildRecord> PostgresBuildStore::RequestCancel(
    int64_t build_id, const std::string& requested_by) {
  std::optional<BuildRecord> record;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE builds SET cancel_requested = true,"
        " state = CASE WHEN state = 'queued' THEN 'canceled' ELSE state END,"
        " phase = CASE WHEN state = 'queued' THEN 'done' ELSE phase END,"
        " finished_at = CASE WHEN state = 'queued' THEN now()"
        "   ELSE finished_at END,"
        " error_message = CASE WHEN state = 'queued' THEN"
        "   'canceled by ' || $2 ELSE error_message END"
        " WHERE build_id = $1 AND state IN ('queued', 'running')",
        build_id, requested_by.empty() ? "an operator" : requested_by);
    SHAPIN_ASSIGN_OR_RETURN(BuildRecord b, SelectBuild(tx, build_id));
    tx.commit();
    record = std::move(b);
    return absl::OkStatus();
  }));
  return *std::move(record);
}

absl::Status PostgresBuildStore::RecordEvent(const BuildEventRecord& e) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO events (kind, severity, build_id, git_sha, repository,"
        " message) VALUES ($1, $2, $3, $4, $5, $6)",
        e.kind, e.severity, e.build_id, OptionalText(e.git_sha),
        OptionalText(e.repository), e.message);
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace shapin::build

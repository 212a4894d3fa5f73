#include "deploy-svc/adapters/postgres_deployment_store.h"

#include "absl/strings/str_cat.h"
#include "common/postgres_rows.h"
#include "common/prepared_statement.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"

namespace shapin::deploy {
namespace {

constexpr char kColumns[] =
    "deployment_id, environment, kind, image_sha, digest, image_ref,"
    " previous_sha, previous_digest, state, error_code, error_message,"
    " signature_status, signature_reason, provenance_status, target,"
    " target_ref, array_to_json(endpoints)::text, rendered_manifest,"
    " requested_by, reason, dry_run, extract(epoch from created_at),"
    " extract(epoch from started_at), extract(epoch from finished_at),"
    " duration_seconds, rendered_tfvars";

// endpoints arrive as a JSON array (array_to_json), so text with any
// characters survives the trip.
std::vector<std::string> EndpointsFromJson(const std::string& json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  std::vector<std::string> out;
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<DeploymentRecord> FromRow(const pqxx::row& row) {
  SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, 3));
  DeploymentRecord d(sha);
  d.deployment_id = row[0].as<int64_t>();
  d.environment = row[1].as<std::string>();
  std::optional<DeploymentKind> kind = ParseDeploymentKind(TextColumn(row, 2));
  if (!kind) return CorruptColumn(row, 2);
  d.kind = *kind;
  SHAPIN_ASSIGN_OR_RETURN(d.digest, OptionalDigestColumn(row, 4));
  d.image_ref = TextColumn(row, 5);
  d.previous_sha = TextColumn(row, 6);
  d.previous_digest = TextColumn(row, 7);
  std::optional<DeploymentState> state =
      ParseDeploymentState(TextColumn(row, 8));
  if (!state) return CorruptColumn(row, 8);
  d.state = *state;
  d.error_code = TextColumn(row, 9);
  d.error_message = TextColumn(row, 10);
  d.signature_status = TextColumn(row, 11);
  d.signature_reason = TextColumn(row, 12);
  d.provenance_status = TextColumn(row, 13);
  d.target = TextColumn(row, 14);
  d.target_ref = TextColumn(row, 15);
  d.endpoints = EndpointsFromJson(TextColumn(row, 16));
  d.rendered_manifest = TextColumn(row, 17);
  d.requested_by = TextColumn(row, 18);
  d.reason = TextColumn(row, 19);
  d.dry_run = row[20].as<bool>();
  d.created_at = *OptionalTimeColumn(row, 21);
  d.started_at = OptionalTimeColumn(row, 22);
  d.finished_at = OptionalTimeColumn(row, 23);
  d.duration_seconds = OptionalDoubleColumn(row, 24);
  d.rendered_tfvars = TextColumn(row, 25);
  return d;
}

}  // namespace

absl::StatusOr<std::vector<DeploymentRecord>> PostgresDeploymentStore::Select(
    const std::string& where_sql,
    const std::vector<std::optional<std::string>>& params, int limit) {
  std::vector<DeploymentRecord> out;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    // One statement is atomic on its own; BEGIN/COMMIT around it would be two
    // more round trips per call (docs/performance.md, preflight).
    pqxx::nontransaction tx(c);
    pqxx::result rows = ExecPrepared(
        tx,
        absl::StrCat("SELECT ", kColumns, " FROM deployments WHERE ", where_sql,
                     " ORDER BY deployment_id DESC LIMIT ", limit),
        pqxx::prepare::make_dynamic_params(params));
    for (const pqxx::row& row : rows) {
      SHAPIN_ASSIGN_OR_RETURN(DeploymentRecord d, FromRow(row));
      out.push_back(std::move(d));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Page<DeploymentRecord>> PostgresDeploymentStore::ListDeployments(
    const std::string& environment, const PageRequest& page) {
  std::vector<std::optional<std::string>> params = {
      environment.empty() ? std::nullopt : std::optional(environment),
      page.before_id ? std::optional(absl::StrCat(*page.before_id))
                     : std::nullopt};
  SHAPIN_ASSIGN_OR_RETURN(
      std::vector<DeploymentRecord> rows,
      Select("($1::text IS NULL OR environment = $1)"
             " AND ($2::bigint IS NULL OR deployment_id < $2)",
             params, page.page_size + 1));
  Page<DeploymentRecord> result;
  for (DeploymentRecord& d : rows) {
    if (static_cast<int>(result.items.size()) == page.page_size) {
      result.next_before_id = result.items.back().deployment_id;
      break;
    }
    result.items.push_back(std::move(d));
  }
  return result;
}

absl::StatusOr<DeploymentRecord> PostgresDeploymentStore::GetDeployment(
    int64_t deployment_id) {
  SHAPIN_ASSIGN_OR_RETURN(
      std::vector<DeploymentRecord> rows,
      Select("deployment_id = $1", {absl::StrCat(deployment_id)}, 1));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("deployment ", deployment_id, " not found"));
  }
  return std::move(rows.front());
}

absl::StatusOr<DeploymentRecord> PostgresDeploymentStore::GetCurrent(
    const std::string& environment) {
  SHAPIN_ASSIGN_OR_RETURN(
      std::vector<DeploymentRecord> rows,
      Select("environment = $1 AND state = 'succeeded' AND NOT dry_run",
             {environment}, 1));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "environment ", environment, " has no successful deployment yet"));
  }
  return std::move(rows.front());
}

namespace {

std::optional<std::string> Nullable(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional(s);
}

std::optional<double> EpochSeconds(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToDoubleSeconds(*t - absl::UnixEpoch());
}

// Postgres array literal for TEXT[]: every element double-quoted with " and
// \ escaped, so any URL survives.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

// Advisory-lock key of an environment, hashed by PostgreSQL so every
// process agrees.
constexpr char kEnvironmentLockKey[] = "hashtextextended('deploy:' || $1, 0)";

}  // namespace

absl::StatusOr<std::vector<GitSha>> PostgresDeploymentStore::SuccessfulShas(
    const std::string& environment, int limit) {
  std::vector<GitSha> shas;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    pqxx::result rows =
        ExecPrepared(tx,
                     "SELECT image_sha FROM deployments WHERE environment = $1"
                     " AND state = 'succeeded' AND NOT dry_run"
                     " ORDER BY deployment_id DESC LIMIT $2",
                     environment, limit);
    for (const pqxx::row& row : rows) {
      SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, 0));
      shas.push_back(sha);
    }
    return absl::OkStatus();
  }));
  return shas;
}

absl::StatusOr<SignatureCoverage> PostgresDeploymentStore::SignatureCoverageOf(
    const std::string& environment, int window) {
  SignatureCoverage coverage;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    // Latest deployment per SHA, then the `window` newest of those.
    pqxx::row row = ExecPrepared1(
        tx,
        "WITH latest AS ("
        "  SELECT DISTINCT ON (image_sha) image_sha, deployment_id,"
        "    signature_status FROM deployments"
        "  WHERE environment = $1 AND state = 'succeeded' AND NOT dry_run"
        "  ORDER BY image_sha, deployment_id DESC),"
        " recent AS ("
        "  SELECT signature_status FROM latest"
        "  ORDER BY deployment_id DESC LIMIT $2)"
        " SELECT count(*) FILTER (WHERE signature_status = 'verified'),"
        "  count(*) FROM recent",
        environment, window);
    coverage.verified = row[0].as<int>();
    coverage.total = row[1].as<int>();
    return absl::OkStatus();
  }));
  return coverage;
}

absl::StatusOr<DeploymentRecord> PostgresDeploymentStore::Create(
    const NewDeployment& d) {
  std::optional<DeploymentRecord> created;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    // One atomic statement that returns the whole new row: no BEGIN/COMMIT
    // and no second query to read it back.
    pqxx::nontransaction tx(c);
    pqxx::row row = ExecPrepared1(
        tx,
        "INSERT INTO deployments (environment, kind, image_sha, state,"
        " target, requested_by, reason, dry_run, previous_sha,"
        " previous_digest)"
        " SELECT $1, $2, $3, 'pending', $4, $5, $6, $7,"
        "  cur.image_sha, cur.digest"
        " FROM (SELECT 1) one LEFT JOIN LATERAL ("
        "  SELECT image_sha, digest FROM deployments"
        "  WHERE environment = $1 AND state = 'succeeded' AND NOT dry_run"
        "  ORDER BY deployment_id DESC LIMIT 1) cur ON true"
        " RETURNING " +
            std::string(kColumns),
        d.environment, std::string(DeploymentKindName(d.kind)),
        d.image_sha.str(), d.target, d.requested_by, d.reason, d.dry_run);
    SHAPIN_ASSIGN_OR_RETURN(DeploymentRecord r, FromRow(row));
    created = std::move(r);
    return absl::OkStatus();
  }));
  return *std::move(created);
}

namespace {

// The mutable fields of a deployment, $1 = deployment_id then $2..$16 as
// bound by ExecWithRecord.
constexpr char kUpdateDeployment[] =
    "UPDATE deployments SET state = $2, digest = $3, image_ref = $4,"
    " error_code = $5, error_message = $6, signature_status = $7,"
    " signature_reason = $8, provenance_status = $9, target_ref = $10,"
    " endpoints = $11::text[], rendered_manifest = $12,"
    " started_at = to_timestamp($13), finished_at = to_timestamp($14),"
    " duration_seconds = $15, rendered_tfvars = $16"
    " WHERE deployment_id = $1 RETURNING deployment_id";

// `sql` with $1..$16 bound to `d` as kUpdateDeployment expects, then
// `extra` as $17...
template <typename... Extra>
pqxx::result ExecWithRecord(pqxx::transaction_base& tx, const std::string& sql,
                            const DeploymentRecord& d, Extra&&... extra) {
  return ExecPrepared(
      tx, sql, d.deployment_id, std::string(DeploymentStateName(d.state)),
      d.digest ? std::optional(d.digest->str()) : std::nullopt,
      Nullable(d.image_ref), Nullable(d.error_code), Nullable(d.error_message),
      Nullable(d.signature_status), Nullable(d.signature_reason),
      Nullable(d.provenance_status), Nullable(d.target_ref),
      TextArray(d.endpoints), Nullable(d.rendered_manifest),
      EpochSeconds(d.started_at), EpochSeconds(d.finished_at),
      d.duration_seconds, Nullable(d.rendered_tfvars),
      std::forward<Extra>(extra)...);
}

// A hold row: 6 columns.
constexpr char kHoldColumns[] =
    "h.held, h.deployment_id, h.held_by, extract(epoch from h.held_since),"
    " COALESCE(h.released_by, ''), d.image_sha";
constexpr char kHoldFrom[] =
    " FROM environment_holds h"
    " LEFT JOIN deployments d ON d.deployment_id = h.deployment_id";

// Fills `hold` from kHoldColumns starting at `first`; a NULL there (no
// holds row) leaves it as is.
absl::Status ReadHold(const pqxx::row& row, int first, HoldRecord& hold) {
  if (row[first].is_null()) return absl::OkStatus();
  hold.held = row[first].as<bool>();
  if (!row[first + 1].is_null()) {
    hold.deployment_id = row[first + 1].as<int64_t>();
  }
  hold.held_by = row[first + 2].as<std::string>();
  hold.held_since = *OptionalTimeColumn(row, first + 3);
  hold.released_by = row[first + 4].as<std::string>();
  if (!row[first + 5].is_null()) {
    SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, first + 5));
    hold.held_sha = sha;
  }
  return absl::OkStatus();
}

// An images row: 5 columns.
constexpr char kImageFactsColumns[] =
    "i.repository, i.repository_type, i.digest,"
    " extract(epoch from i.commit_time), COALESCE(i.signature_status, '')";

// Adds one images row (kImageFactsColumns at `first`; NULL: none) to `facts`.
absl::Status AddImageFacts(const pqxx::row& row, int first,
                           const std::string& canonical_repository,
                           ImageFacts& facts) {
  if (row[first].is_null()) return absl::OkStatus();
  if (row[first].as<std::string>() == canonical_repository) {
    SHAPIN_ASSIGN_OR_RETURN(Digest d, DigestColumn(row, first + 2));
    facts.canonical_digest = d;
    facts.commit_time = OptionalTimeColumn(row, first + 3);
    facts.signature_status = row[first + 4].as<std::string>();
  } else if (row[first + 1].as<std::string>() == "staging") {
    facts.in_staging = true;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PostgresDeploymentStore::Update(const DeploymentRecord& d) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    // One atomic statement (autocommit): a missing row changes nothing.
    pqxx::nontransaction tx(c);
    pqxx::result r = ExecWithRecord(tx, kUpdateDeployment, d);
    if (r.empty()) {
      return absl::NotFoundError(
          absl::StrCat("deployment ", d.deployment_id, " not found"));
    }
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<RunningChecks> PostgresDeploymentStore::MarkRunning(
    const DeploymentRecord& d, const std::string& canonical_repository) {
  RunningChecks checks;
  checks.hold.environment = d.environment;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    // One statement, so atomic on its own: the update, and one row per
    // images row of the SHA (at least one), each carrying the hold.
    pqxx::nontransaction tx(c);
    static const std::string kSql = absl::StrCat(
        "WITH running AS (", kUpdateDeployment, "),", " hold AS (SELECT ",
        kHoldColumns, kHoldFrom, "   WHERE h.environment = $17),",
        " facts AS (SELECT ", kImageFactsColumns,
        "   FROM images i WHERE i.git_sha = $18)",
        " SELECT (SELECT count(*) FROM running), hold.*, facts.*",
        " FROM (SELECT 1) one LEFT JOIN hold ON true LEFT JOIN facts ON true");
    pqxx::result rows =
        ExecWithRecord(tx, kSql, d, d.environment, d.image_sha.str());
    if (rows.empty() || rows[0][0].as<int64_t>() == 0) {
      return absl::NotFoundError(
          absl::StrCat("deployment ", d.deployment_id, " not found"));
    }
    SHAPIN_RETURN_IF_ERROR(ReadHold(rows[0], 1, checks.hold));
    for (const pqxx::row& row : rows) {
      SHAPIN_RETURN_IF_ERROR(
          AddImageFacts(row, 7, canonical_repository, checks.image));
    }
    return absl::OkStatus();
  }));
  return checks;
}

absl::StatusOr<int> PostgresDeploymentStore::FailAbandoned(
    const std::string& environment, const std::string& reason) {
  int n = 0;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result r = ExecPrepared(
        tx,
        "UPDATE deployments SET state = 'failed', error_code = "
        "'TARGET_FAILURE',"
        " error_message = $2, finished_at = now()"
        " WHERE environment = $1 AND state IN ('pending', 'running')"
        // Dry runs run outside the lock: only one far older than any dry
        // run takes was abandoned.
        "   AND (NOT dry_run OR created_at < now() - interval '10 minutes')"
        " RETURNING deployment_id, image_sha",
        environment, reason);
    // In the audit trail too: the target may run what history calls failed.
    for (const pqxx::row& row : r) {
      ExecPrepared(
          tx,
          "INSERT INTO events (kind, severity, deployment_id, git_sha,"
          " message) VALUES ('deployment_interrupted', 'warning', $1, $2, $3)",
          row[0].as<int64_t>(), row[1].as<std::string>(),
          absl::StrCat(environment, ": ", reason));
    }
    tx.commit();
    n = static_cast<int>(r.size());
    return absl::OkStatus();
  }));
  return n;
}

LockHolder PostgresDeploymentStore::HolderOf(const std::string& environment) {
  LockHolder holder;
  // Best effort: the name only makes the message clearer.
  (void)pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT
    pqxx::result r = ExecPrepared(
        tx,
        "SELECT deployment_id, image_sha,"
        " extract(epoch from now() - COALESCE(started_at, created_at))"
        " FROM deployments"
        " WHERE environment = $1 AND state IN ('pending', 'running')"
        "   AND NOT dry_run"
        " ORDER BY deployment_id DESC LIMIT 1",
        environment);
    if (r.empty()) return absl::OkStatus();
    holder.deployment_id = r[0][0].as<int64_t>();
    holder.image_sha = r[0][1].as<std::string>();
    holder.running_for = absl::Seconds(r[0][2].as<double>());
    return absl::OkStatus();
  });
  return holder;
}

absl::Status PostgresDeploymentStore::WithEnvironmentLock(
    const std::string& environment, const LockWait& wait,
    absl::FunctionRef<absl::Status()> fn) {
  // Each try takes a pooled connection only for itself; the one that wins
  // keeps it while `fn` runs, since the advisory lock lives in its session.
  auto try_lock = [&]() -> LockTry {
    LockTry attempt;
    attempt.status = pool_.Run([&](pqxx::connection& c) -> absl::Status {
      {
        pqxx::nontransaction tx(c);
        attempt.acquired =
            ExecPrepared1(tx,
                          absl::StrCat("SELECT pg_try_advisory_lock(",
                                       kEnvironmentLockKey, ")"),
                          environment)[0]
                .as<bool>();
      }
      if (!attempt.acquired) return absl::OkStatus();
      absl::Status result = fn();
      pqxx::nontransaction tx(c);
      ExecPrepared(
          tx,
          absl::StrCat("SELECT pg_advisory_unlock(", kEnvironmentLockKey, ")"),
          environment);
      return result;
    });
    return attempt;
  };
  return lock_queue_.Run(environment, wait, try_lock,
                         [&] { return HolderOf(environment); });
}

absl::StatusOr<HoldRecord> PostgresDeploymentStore::GetHold(
    const std::string& environment) {
  HoldRecord hold;
  hold.environment = environment;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT round trips
    pqxx::result r =
        ExecPrepared(tx,
                     absl::StrCat("SELECT ", kHoldColumns, kHoldFrom,
                                  " WHERE h.environment = $1"),
                     environment);
    if (r.empty()) return absl::OkStatus();
    return ReadHold(r[0], 0, hold);
  }));
  return hold;
}

absl::Status PostgresDeploymentStore::SetHold(const std::string& environment,
                                              int64_t deployment_id,
                                              const std::string& held_by) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    ExecPrepared(
        tx,
        "INSERT INTO environment_holds (environment, held, deployment_id,"
        " held_by, held_since) VALUES ($1, true, $2, $3, now())"
        " ON CONFLICT (environment) DO UPDATE SET held = true,"
        " deployment_id = $2, held_by = $3, held_since = now(),"
        " released_by = NULL, released_at = NULL",
        environment, deployment_id, held_by);
    ExecPrepared(tx,
                 "INSERT INTO events (kind, deployment_id, message) VALUES"
                 " ('environment_held', $1, $2)",
                 deployment_id,
                 absl::StrCat(environment, " held by ", held_by));
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<HoldRecord> PostgresDeploymentStore::ReleaseHold(
    const std::string& environment, const std::string& released_by) {
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pqxx::result r = ExecPrepared(
        tx,
        "UPDATE environment_holds SET held = false, released_by = $2,"
        " released_at = now() WHERE environment = $1 AND held"
        " RETURNING deployment_id",
        environment, released_by);
    if (!r.empty()) {
      ExecPrepared(
          tx, "INSERT INTO events (kind, message) VALUES ('hold_released', $1)",
          absl::StrCat(environment, " released by ", released_by));
    }
    tx.commit();
    return absl::OkStatus();
  }));
  return GetHold(environment);
}

absl::StatusOr<ImageFacts> PostgresDeploymentStore::GetImageFacts(
    const std::string& canonical_repository, const GitSha& sha) {
  ImageFacts facts;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);  // one statement: no BEGIN/COMMIT round trips
    pqxx::result rows =
        ExecPrepared(tx,
                     absl::StrCat("SELECT ", kImageFactsColumns,
                                  " FROM images i WHERE i.git_sha = $1"),
                     sha.str());
    for (const pqxx::row& row : rows) {
      SHAPIN_RETURN_IF_ERROR(
          AddImageFacts(row, 0, canonical_repository, facts));
    }
    return absl::OkStatus();
  }));
  return facts;
}

absl::StatusOr<std::vector<RollbackCandidate>>
PostgresDeploymentStore::RollbackCandidates(
    const std::string& environment, const std::string& canonical_repository,
    int limit) {
  std::vector<RollbackCandidate> out;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    pqxx::result rows = ExecPrepared(
        tx,
        "SELECT i.git_sha, i.digest, extract(epoch from i.built_at),"
        " (SELECT extract(epoch from max(d.finished_at)) FROM deployments d"
        "   WHERE d.environment = $1 AND d.image_sha = i.git_sha"
        "   AND d.state = 'succeeded' AND NOT d.dry_run),"
        " COALESCE(i.signature_status, '')"
        " FROM images i WHERE i.repository = $2"
        " ORDER BY i.image_id DESC LIMIT $3",
        environment, canonical_repository, limit);
    for (const pqxx::row& row : rows) {
      SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, 0));
      SHAPIN_ASSIGN_OR_RETURN(Digest digest, DigestColumn(row, 1));
      RollbackCandidate candidate(sha, digest);
      candidate.built_at = *OptionalTimeColumn(row, 2);
      candidate.last_deployed_at = OptionalTimeColumn(row, 3);
      candidate.signature_status = row[4].as<std::string>();
      out.push_back(std::move(candidate));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PostgresDeploymentStore::RecordEvent(
    const std::string& kind, const std::string& severity,
    std::optional<int64_t> deployment_id, const std::string& git_sha,
    const std::string& message) {
  return pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    ExecPrepared(
        tx,
        "INSERT INTO events (kind, severity, deployment_id, git_sha, message)"
        " VALUES ($1, $2, $3, $4, $5)",
        kind, severity, deployment_id, Nullable(git_sha), message);
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace shapin::deploy

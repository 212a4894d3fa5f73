#include "common/schema_migrations.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "pqxx/pqxx"

namespace shapin {
namespace {

// Key of the advisory lock serialising migrations across processes
// (arbitrary, fixed: "shapin" in ASCII).
constexpr int64_t kMigrationLockKey = 0x73686170696e;

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE builds (
  build_id               BIGSERIAL PRIMARY KEY,
  git_sha                TEXT NOT NULL CHECK (git_sha ~ '^[0-9a-f]{40}$'),
  branch                 TEXT NOT NULL,
  source_url             TEXT NOT NULL,
  dockerfile             TEXT NOT NULL,
  context                TEXT NOT NULL,
  rebuild                BOOLEAN NOT NULL DEFAULT false,
  repository             TEXT NOT NULL,
  repository_type        TEXT NOT NULL
                           CHECK (repository_type IN ('canonical', 'staging')),
  state                  TEXT NOT NULL CHECK (state IN
                           ('queued', 'running', 'succeeded', 'failed',
                            'canceled')),
  -- Pipeline step for WatchBuild: queued, fetching, building, pushing,
  -- verifying, tagging, done.
  phase                  TEXT NOT NULL DEFAULT 'queued',
  outcome                TEXT CHECK (outcome IN
                           ('published', 'reused', 'reproduced')),
  error_code             TEXT,
  error_message          TEXT,
  digest                 TEXT CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  pre_push_digest        TEXT,
  post_push_digest       TEXT,
  digest_verification    TEXT CHECK (digest_verification IN ('ok', 'mismatch')),
  platform               TEXT NOT NULL DEFAULT 'linux/amd64',
  signature_status       TEXT,
  provenance_ref         TEXT,
  sbom_ref               TEXT,
  log_tail               TEXT NOT NULL DEFAULT '',
  requested_by           TEXT NOT NULL DEFAULT '',
  created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at             TIMESTAMPTZ,
  finished_at            TIMESTAMPTZ,
  build_duration_seconds DOUBLE PRECISION,
  push_duration_seconds  DOUBLE PRECISION,
  -- The queue: a worker owns a running build while its lease is fresh.
  lease_owner            TEXT,
  lease_expires_at       TIMESTAMPTZ,
  attempts               INTEGER NOT NULL DEFAULT 0,
  cancel_requested       BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX builds_by_sha ON builds (git_sha, build_id DESC);
CREATE INDEX builds_by_branch ON builds (branch, build_id DESC);
CREATE INDEX builds_queued ON builds (build_id) WHERE state = 'queued';
CREATE INDEX builds_running ON builds (lease_expires_at) WHERE state = 'running';

-- Builder output, bounded per build (the worker stops appending at a cap and
-- says so); WatchBuild streams it across processes.
CREATE TABLE build_logs (
  build_id BIGINT NOT NULL REFERENCES builds (build_id) ON DELETE CASCADE,
  seq      INTEGER NOT NULL,
  line     TEXT NOT NULL,
  PRIMARY KEY (build_id, seq)
);

CREATE TABLE images (
  image_id         BIGSERIAL PRIMARY KEY,
  repository       TEXT NOT NULL,
  repository_type  TEXT NOT NULL
                     CHECK (repository_type IN ('canonical', 'staging')),
  git_sha          TEXT NOT NULL CHECK (git_sha ~ '^[0-9a-f]{40}$'),
  digest           TEXT NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  size_bytes       BIGINT,
  platform         TEXT NOT NULL DEFAULT 'linux/amd64',
  branch           TEXT NOT NULL,
  build_id         BIGINT REFERENCES builds (build_id),
  built_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  commit_time      TIMESTAMPTZ,
  signature_status TEXT,
  provenance_ref   TEXT,
  sbom_ref         TEXT,
  -- One image per commit per repository: a SHA tag never changes digest.
  UNIQUE (repository, git_sha)
);
CREATE INDEX images_by_sha ON images (git_sha);

CREATE TABLE deployments (
  deployment_id     BIGSERIAL PRIMARY KEY,
  environment       TEXT NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
  image_sha         TEXT NOT NULL CHECK (image_sha ~ '^[0-9a-f]{40}$'),
  digest            TEXT CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  image_ref         TEXT,
  previous_sha      TEXT,
  previous_digest   TEXT,
  state             TEXT NOT NULL CHECK (state IN
                      ('pending', 'running', 'succeeded', 'failed')),
  error_code        TEXT,
  error_message     TEXT,
  signature_status  TEXT CHECK (signature_status IN ('verified', 'unverified')),
  signature_reason  TEXT,
  provenance_status TEXT,
  target            TEXT,
  target_ref        TEXT,
  endpoints         TEXT[] NOT NULL DEFAULT '{}',
  rendered_manifest TEXT,
  rendered_tfvars   TEXT,
  requested_by      TEXT NOT NULL DEFAULT '',
  reason            TEXT NOT NULL DEFAULT '',
  dry_run           BOOLEAN NOT NULL DEFAULT false,
  created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at        TIMESTAMPTZ,
  finished_at       TIMESTAMPTZ,
  duration_seconds  DOUBLE PRECISION
);
CREATE INDEX deployments_by_env ON deployments (environment, deployment_id DESC);
CREATE INDEX deployments_succeeded ON deployments (environment, deployment_id DESC)
  WHERE state = 'succeeded' AND NOT dry_run;

-- After a rollback an environment is held until someone releases it.
CREATE TABLE environment_holds (
  environment   TEXT PRIMARY KEY,
  held          BOOLEAN NOT NULL,
  deployment_id BIGINT REFERENCES deployments (deployment_id),
  held_by       TEXT NOT NULL DEFAULT '',
  held_since    TIMESTAMPTZ NOT NULL DEFAULT now(),
  released_by   TEXT,
  released_at   TIMESTAMPTZ
);

-- Audit trail and escalations (digest mismatches, holds, cancellations).
CREATE TABLE events (
  event_id      BIGSERIAL PRIMARY KEY,
  occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  kind          TEXT NOT NULL,
  severity      TEXT NOT NULL DEFAULT 'info'
                  CHECK (severity IN ('info', 'warning', 'error')),
  build_id      BIGINT REFERENCES builds (build_id),
  deployment_id BIGINT REFERENCES deployments (deployment_id),
  git_sha       TEXT,
  repository    TEXT,
  message       TEXT NOT NULL DEFAULT '',
  details       JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_kind ON events (kind, event_id DESC);
)sql"},
    // Found by bench/history_scale (docs/performance.md): without these,
    // ListRollbackTargets scanned every successful deployment of the
    // environment once per image, and the in-flight checks of Deploy
    // walked the environment's whole history when nothing was in flight.
    {2, "history indexes", R"sql(
CREATE INDEX images_by_repository ON images (repository, image_id DESC);
CREATE INDEX deployments_succeeded_by_sha
  ON deployments (environment, image_sha, finished_at)
  WHERE state = 'succeeded' AND NOT dry_run;
CREATE INDEX deployments_in_flight
  ON deployments (environment, deployment_id DESC)
  WHERE state IN ('pending', 'running');
)sql"},
    // Bearer tokens administered with shapin-tokens (common/auth/api_token.h):
    // only the SHA-256 of a token is stored; a revoked row stays as history.
    {3, "api tokens", R"sql(
CREATE TABLE api_tokens (
  token_id   BIGSERIAL PRIMARY KEY,
  name       TEXT NOT NULL CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
  sha256     TEXT NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  roles      TEXT NOT NULL CHECK (roles ~ '^[a-z]+(,[a-z]+)*$'),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  created_by TEXT NOT NULL DEFAULT '',
  revoked_at TIMESTAMPTZ,
  revoked_by TEXT,
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name)
  WHERE revoked_at IS NULL;
)sql"},
    // Integrity windows (issue 16).
    {4, "build leases, image origin, build notifications", R"sql(
-- A build's lease is its publish lock. A fencing token, new at every claim,
-- lets a worker check at the tag step that the build is still its own (a
-- session advisory lock died silently with the database session); the
-- unique index makes "one running build per (repository, SHA)" an
-- invariant, so claiming needs no global lock.
CREATE SEQUENCE build_lease_tokens;
ALTER TABLE builds ADD COLUMN lease_token BIGINT;
CREATE UNIQUE INDEX builds_one_running_per_sha ON builds (repository, git_sha)
  WHERE state = 'running';
-- Who vouches for an image: build-svc built it, or an operator adopted a
-- tag build-svc did not publish (AdoptImage; event image_adopted).
ALTER TABLE images ADD COLUMN origin TEXT NOT NULL DEFAULT 'built'
  CHECK (origin IN ('built', 'adopted'));
-- Publication and signing are one recoverable step: the image is recorded
-- as soon as it is tagged (signature_status 'pending' until signed), with
-- the base images its build resolved ([{"name", "digest"}]), so a later
-- attempt that finds it unsigned signs it with the same provenance.
ALTER TABLE images ADD COLUMN base_images JSONB NOT NULL DEFAULT '[]';
-- The queue and the waiting calls are woken, not polling: every committed
-- change of a build's state or phase, and new log lines, notify channel
-- shapin_builds with "<build_id> <state>" or "<build_id> log"
-- (build-svc/build_change.h). Lease renewals notify nothing.
CREATE FUNCTION shapin_notify_build() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('shapin_builds', NEW.build_id || ' ' || NEW.state);
  RETURN NULL;
END $$;
CREATE TRIGGER builds_notify_insert AFTER INSERT ON builds
  FOR EACH ROW EXECUTE FUNCTION shapin_notify_build();
CREATE TRIGGER builds_notify_update AFTER UPDATE OF state, phase ON builds
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                     OR OLD.phase IS DISTINCT FROM NEW.phase)
  EXECUTE FUNCTION shapin_notify_build();
-- Identical payloads of one transaction are delivered once.
CREATE FUNCTION shapin_notify_build_log() RETURNS trigger LANGUAGE plpgsql
  AS $$
BEGIN
  PERFORM pg_notify('shapin_builds', NEW.build_id || ' log');
  RETURN NULL;
END $$;
CREATE TRIGGER build_logs_notify AFTER INSERT ON build_logs
  FOR EACH ROW EXECUTE FUNCTION shapin_notify_build_log();
)sql"},
};

}  // namespace

int LatestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

absl::StatusOr<int> ApplyMigrations(PostgresPool& pool) {
  int version = 0;
  absl::Status status = pool.Run([&](pqxx::connection& conn) -> absl::Status {
    {
      pqxx::nontransaction tx(conn);
      tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    }
    // Unlock also when a migration throws; a lost connection releases the
    // session lock by itself.
    struct Unlock {
      pqxx::connection& conn;
      ~Unlock() {
        try {
          pqxx::nontransaction tx(conn);
          tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
        } catch (const std::exception&) {
        }
      }
    } unlock{conn};

    {
      pqxx::work tx(conn);
      tx.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY,"
          " name TEXT NOT NULL,"
          " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      version = tx.exec1(
                      "SELECT COALESCE(MAX(version), 0) FROM "
                      "schema_migrations")[0]
                    .as<int>();
      tx.commit();
    }
    if (version > LatestSchemaVersion()) {
      return absl::FailedPreconditionError(
          absl::StrCat("database schema version ", version,
                       " is newer than this binary supports (",
                       LatestSchemaVersion(), "): upgrade shapin"));
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= version) continue;
      pqxx::work tx(conn);
      tx.exec0(std::string(m.sql));
      tx.exec_params0(
          "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
          m.version, std::string(m.name));
      tx.commit();
      LogInfo("schema_migrated", {{"version", m.version}, {"name", m.name}});
      version = m.version;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return absl::Status(
        status.code(), absl::StrCat("applying migrations: ", status.message()));
  }
  return version;
}

}  // namespace shapin

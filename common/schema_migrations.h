// The database schema, as numbered migrations applied at service start.
//
// Both services call ApplyMigrations() on start; a session advisory lock makes
// concurrent starts safe (the second waits, then finds nothing to do). Each
// migration runs in its own transaction with its row in schema_migrations, so
// a crash leaves the schema at a whole version. Migrations are append-only:
// never edit one that has shipped.
#ifndef SHAPIN_COMMON_SCHEMA_MIGRATIONS_H_
#define SHAPIN_COMMON_SCHEMA_MIGRATIONS_H_

#include "absl/status/statusor.h"
#include "common/postgres_pool.h"

namespace shapin {

// Applies every migration newer than the database's version. Returns the
// schema version afterwards. FAILED_PRECONDITION when the database is newer
// than this binary knows (an older binary must not run against it).
absl::StatusOr<int> ApplyMigrations(PostgresPool& pool);

// The newest version this binary knows.
int LatestSchemaVersion();

}  // namespace shapin

#endif  // SHAPIN_COMMON_SCHEMA_MIGRATIONS_H_

#include "common/postgres_pool.h"

#include <thread>

#include "absl/time/clock.h"
#include "common/prepared_statement.h"
#include "common/schema_migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/support/postgres_server.h"

namespace shapin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = shapin::testing::PostgresServer::StartOrDie().release();
  }
  static void TearDownTestSuite() { delete server_; }

  std::unique_ptr<PostgresPool> FreshPool(const std::string& db, int size = 2) {
    absl::StatusOr<std::string> url = server_->CreateDatabase(db);
    EXPECT_TRUE(url.ok()) << url.status();
    auto pool = PostgresPool::Connect({.url = *url, .size = size});
    EXPECT_TRUE(pool.ok()) << pool.status();
    return std::move(pool).value();
  }

  static shapin::testing::PostgresServer* server_;
};
shapin::testing::PostgresServer* PostgresPoolTest::server_ = nullptr;

int64_t CountRows(PostgresPool& pool, const std::string& table) {
  int64_t n = -1;
  EXPECT_TRUE(
      pool.Run([&](pqxx::connection& c) {
            pqxx::work tx(c);
            n = tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
            return absl::OkStatus();
          })
          .ok());
  return n;
}

TEST_F(PostgresPoolTest, MigrationsApplyOnceAndAreIdempotent) {
  auto pool = FreshPool("migrate_once");
  absl::StatusOr<int> v = ApplyMigrations(*pool);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, LatestSchemaVersion());
  absl::StatusOr<int> again = ApplyMigrations(*pool);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, LatestSchemaVersion());
  EXPECT_EQ(CountRows(*pool, "schema_migrations"), LatestSchemaVersion());
  for (const char* table :
       {"builds", "images", "deployments", "events", "environment_holds"}) {
    SCOPED_TRACE(table);
    EXPECT_EQ(CountRows(*pool, table), 0);
  }
}

TEST_F(PostgresPoolTest, ConcurrentStartsMigrateExactlyOnce) {
  absl::StatusOr<std::string> url = server_->CreateDatabase("migrate_race");
  ASSERT_TRUE(url.ok());
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto pool = PostgresPool::Connect({.url = *url, .size = 1});
      if (!pool.ok()) {
        results[i] = pool.status();
        return;
      }
      results[i] = ApplyMigrations(**pool).status();
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  auto pool = PostgresPool::Connect({.url = *url});
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(CountRows(**pool, "schema_migrations"), LatestSchemaVersion());
}

TEST_F(PostgresPoolTest, NewerSchemaThanBinaryIsRefused) {
  auto pool = FreshPool("migrate_newer");
  ASSERT_TRUE(ApplyMigrations(*pool).ok());
  ASSERT_TRUE(pool->Run([](pqxx::connection& c) {
                    pqxx::work tx(c);
                    tx.exec0(
                        "INSERT INTO schema_migrations (version, name) "
                        "VALUES (9999, 'from the future')");
                    tx.commit();
                    return absl::OkStatus();
                  })
                  .ok());
  absl::StatusOr<int> v = ApplyMigrations(*pool);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("9999"));
}

TEST_F(PostgresPoolTest, ConstraintViolationsMapToStatusCodes) {
  auto pool = FreshPool("constraints");
  ASSERT_TRUE(ApplyMigrations(*pool).ok());
  struct Case {
    const char* name;
    std::string sql;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"check violation: malformed sha",
       "INSERT INTO images (repository, repository_type, git_sha, digest, "
       "branch) VALUES ('r', 'canonical', 'nothex', 'sha256:" +
           std::string(64, 'a') + "', 'main')",
       absl::StatusCode::kFailedPrecondition},
      {"syntax error", "SELEKT 1", absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status s = pool->Run([&](pqxx::connection& conn) {
      pqxx::work tx(conn);
      tx.exec0(c.sql);
      tx.commit();
      return absl::OkStatus();
    });
    EXPECT_EQ(s.code(), c.code) << s;
  }
  // Unique (repository, git_sha): the second image for a commit is refused.
  const std::string insert =
      "INSERT INTO images (repository, repository_type, git_sha, digest, "
      "branch) VALUES ('r', 'canonical', '" +
      std::string(40, 'a') + "', 'sha256:" + std::string(64, 'b') +
      "', 'main')";
  auto run_insert = [&] {
    return pool->Run([&](pqxx::connection& conn) {
      pqxx::work tx(conn);
      tx.exec0(insert);
      tx.commit();
      return absl::OkStatus();
    });
  };
  ASSERT_TRUE(run_insert().ok());
  EXPECT_EQ(run_insert().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(PostgresPoolTest, LostConnectionIsUnavailableThenReconnects) {
  auto pool = FreshPool("reconnect", /*size=*/1);
  // The backend is killed from another session while the call uses it, as
  // a server restart would.
  absl::Status lost = pool->Run([&](pqxx::connection& c) {
    const int backend_pid =
        pqxx::nontransaction(c).exec1("SELECT pg_backend_pid()")[0].as<int>();
    pqxx::connection admin(server_->url());
    pqxx::work kill(admin);
    kill.exec_params("SELECT pg_terminate_backend($1)", backend_pid);
    kill.commit();
    pqxx::work tx(c);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  absl::Status again = pool->Run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
  EXPECT_TRUE(again.ok()) << again;
}

TEST_F(PostgresPoolTest, IdleConnectionClosedByTheServerIsReplacedBeforeUse) {
  auto pool = FreshPool("idle_closed", /*size=*/1);
  int backend_pid = 0;
  ASSERT_TRUE(pool->Run([&](pqxx::connection& c) {
                    pqxx::work tx(c);
                    backend_pid =
                        tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
                    return absl::OkStatus();
                  })
                  .ok());
  // The pooled connection dies while idle (a database restart does this to
  // every one); the backend is gone once pg_stat_activity no longer has it.
  pqxx::connection admin(server_->url());
  {
    pqxx::work tx(admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", backend_pid);
    tx.commit();
  }
  for (int i = 0; i < 100; ++i) {
    pqxx::work tx(admin);
    if (tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                        backend_pid)[0]
            .as<int>() == 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  // The next call gets a fresh connection instead of failing.
  int new_pid = 0;
  absl::Status next = pool->Run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    new_pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    return absl::OkStatus();
  });
  EXPECT_TRUE(next.ok()) << next;
  EXPECT_NE(new_pid, backend_pid);
}

// ExecPrepared: one server-side prepared statement per text and connection,
// reused by later calls, distinct texts distinct statements, and prepared
// again on the connection that replaces a lost one.
TEST_F(PostgresPoolTest, PreparedStatementsArePreparedOncePerConnection) {
  auto pool = FreshPool("prepared", /*size=*/1);
  const std::string add = "SELECT $1::int + $2::int";
  const std::string mul = "SELECT $1::int * $2::int";
  auto run = [&](const std::string& sql, int a, int b, int* out, int* prepared,
                 int* pid) {
    return pool->Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      *out = ExecPrepared1(tx, sql, a, b)[0].as<int>();
      *prepared = ExecPrepared1(tx,
                                "SELECT count(*)::int FROM"
                                " pg_prepared_statements WHERE statement = $1",
                                sql)[0]
                      .as<int>();
      *pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
      return absl::OkStatus();
    });
  };
  int out = 0, prepared = 0, pid = 0, first_pid = 0;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(run(add, i, 2, &out, &prepared, &pid).ok());
    EXPECT_EQ(out, i + 2);
    EXPECT_EQ(prepared, 1);
    if (i == 0) first_pid = pid;
    EXPECT_EQ(pid, first_pid) << "one pooled connection";
  }
  ASSERT_TRUE(run(mul, 3, 4, &out, &prepared, &pid).ok());
  EXPECT_EQ(out, 12);
  EXPECT_EQ(prepared, 1);
  EXPECT_NE(PreparedStatementName(add), PreparedStatementName(mul));

  // The connection dies; its replacement prepares the statement anew.
  {
    pqxx::connection admin(server_->url());
    pqxx::work tx(admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", first_pid);
    tx.commit();
  }
  absl::Status s;
  for (int i = 0; i < 100; ++i) {
    s = run(add, 5, 6, &out, &prepared, &pid);
    if (s.ok()) break;  // the first try may still pick the dying connection
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(pid, first_pid);
  EXPECT_EQ(out, 11);
  EXPECT_EQ(prepared, 1);
}

TEST_F(PostgresPoolTest, UnreachableServerIsUnavailableWithoutThePassword) {
  absl::StatusOr<int> port = shapin::testing::PickFreePort();
  ASSERT_TRUE(port.ok());
  auto pool =
      PostgresPool::Connect({.url = "postgresql://shapin:s3cret-pw@127.0.0.1:" +
                                    std::to_string(*port) + "/x",
                             .acquire_timeout = absl::Seconds(2)});
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(pool.status().message()), Not(HasSubstr("s3cret")));
  EXPECT_THAT(std::string(pool.status().message()), HasSubstr("127.0.0.1"));
}

TEST_F(PostgresPoolTest, PoolNeverOpensMoreThanItsSize) {
  auto pool = FreshPool("bounded", /*size=*/2);
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      EXPECT_TRUE(pool->Run([&](pqxx::connection& c) {
                        int now = ++inside;
                        int prev = max_inside.load();
                        while (now > prev &&
                               !max_inside.compare_exchange_weak(prev, now)) {
                        }
                        pqxx::work tx(c);
                        tx.exec("SELECT pg_sleep(0.05)");
                        --inside;
                        return absl::OkStatus();
                      })
                      .ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_inside.load(), 2);
}

}  // namespace
}  // namespace shapin

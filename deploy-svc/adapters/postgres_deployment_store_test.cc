#include "deploy-svc/adapters/postgres_deployment_store.h"

#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/schema_migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/support/postgres_server.h"

namespace shapin::deploy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Sha(char c) { return std::string(40, c); }

class PostgresDeploymentStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = shapin::testing::PostgresServer::StartOrDie().release();
  }
  static void TearDownTestSuite() { delete server_; }

  void SetUp() override {
    absl::StatusOr<std::string> url =
        server_->CreateDatabase(absl::StrCat("deployments_", counter_++));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    auto pool = PostgresPool::Connect({.url = *url});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(pool).value();
    ASSERT_TRUE(ApplyMigrations(*pool_).ok());
    store_ = std::make_unique<PostgresDeploymentStore>(*pool_);
  }

  void Insert(const std::string& env, const std::string& sha,
              const std::string& state, bool dry_run = false,
              const std::string& kind = "deploy") {
    ASSERT_TRUE(pool_
                    ->Run([&](pqxx::connection& c) {
                      pqxx::work tx(c);
                      tx.exec_params(
                          "INSERT INTO deployments (environment, kind,"
                          " image_sha, state, dry_run, endpoints, digest)"
                          " VALUES ($1, $2, $3, $4, $5,"
                          " ARRAY['http://127.0.0.1:8080', 'a \"quoted\" one'],"
                          " $6)",
                          env, kind, sha, state, dry_run,
                          "sha256:" + std::string(64, 'd'));
                      tx.commit();
                      return absl::OkStatus();
                    })
                    .ok());
  }

  // Runs `hold` on a thread holding production's lock through `store`,
  // after recording a pending deployment there (the holder's, as a real
  // deploy would); `holder_id` gets its id once the lock is held.
  std::thread HoldLock(DeploymentStore& store, absl::Notification& held,
                       absl::Notification& release, int64_t* holder_id) {
    return std::thread([&store, &held, &release, holder_id] {
      absl::Status s = store.WithEnvironmentLock("production", {}, [&] {
        NewDeployment running(*GitSha::Parse(Sha('1')));
        running.environment = "production";
        absl::StatusOr<DeploymentRecord> d = store.Create(running);
        EXPECT_TRUE(d.ok()) << d.status();
        if (d.ok()) *holder_id = d->deployment_id;
        held.Notify();
        EXPECT_TRUE(release.WaitForNotificationWithTimeout(absl::Seconds(30)));
        return absl::OkStatus();
      });
      EXPECT_TRUE(s.ok()) << s;
    });
  }

  static shapin::testing::PostgresServer* server_;
  static int counter_;
  std::string url_;
  std::unique_ptr<PostgresPool> pool_;
  std::unique_ptr<PostgresDeploymentStore> store_;
};
shapin::testing::PostgresServer* PostgresDeploymentStoreTest::server_ = nullptr;
int PostgresDeploymentStoreTest::counter_ = 0;

TEST_F(PostgresDeploymentStoreTest, SignatureCoverageOfRecentDistinctShas) {
  auto insert = [&](const std::string& env, char sha, const std::string& state,
                    const std::string& signature_status, bool dry_run) {
    ASSERT_TRUE(pool_
                    ->Run([&](pqxx::connection& c) {
                      pqxx::work tx(c);
                      tx.exec_params(
                          "INSERT INTO deployments (environment, kind,"
                          " image_sha, state, dry_run, signature_status)"
                          " VALUES ($1, 'deploy', $2, $3, $4, $5)",
                          env, Sha(sha), state, dry_run, signature_status);
                      tx.commit();
                      return absl::OkStatus();
                    })
                    .ok());
  };
  auto coverage = [&](const std::string& env, int window) {
    absl::StatusOr<SignatureCoverage> c =
        store_->SignatureCoverageOf(env, window);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::pair(c->verified, c->total) : std::pair(-1, -1);
  };
  EXPECT_EQ(coverage("production", 20), std::pair(0, 0));

  insert("production", 'a', "succeeded", "verified", false);
  insert("production", 'b', "succeeded", "unverified", false);
  insert("production", 'c', "succeeded", "verified", false);
  insert("production", 'b', "succeeded", "verified", false);   // b again
  insert("production", 'd', "failed", "unverified", false);    // never ran
  insert("production", 'e', "succeeded", "unverified", true);  // dry run
  insert("staging", 'f', "succeeded", "unverified", false);
  // a, b (its latest deployment) and c: all verified.
  EXPECT_EQ(coverage("production", 20), std::pair(3, 3));
  EXPECT_EQ(coverage("staging", 20), std::pair(0, 1));

  insert("production", 'a', "succeeded", "unverified", false);  // a again
  EXPECT_EQ(coverage("production", 20), std::pair(2, 3));
  // The two most recently deployed SHAs are a (unverified) and b.
  EXPECT_EQ(coverage("production", 2), std::pair(1, 2));
}

TEST_F(PostgresDeploymentStoreTest, EmptyHistoryAndNoCurrent) {
  auto list = store_->ListDeployments("", {});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->items.empty());
  auto current = store_->GetCurrent("production");
  EXPECT_EQ(current.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(current.status().message()), HasSubstr("production"));
}

TEST_F(PostgresDeploymentStoreTest, CurrentIsNewestSuccessfulRealDeployment) {
  Insert("production", Sha('a'), "succeeded");
  Insert("production", Sha('b'), "succeeded", /*dry_run=*/false, "rollback");
  Insert("production", Sha('c'), "failed");
  Insert("production", Sha('e'), "succeeded", /*dry_run=*/true);
  Insert("staging", Sha('f'), "succeeded");
  auto current = store_->GetCurrent("production");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->image_sha.str(), Sha('b'));
  EXPECT_EQ(current->kind, DeploymentKind::kRollback);
  EXPECT_THAT(current->endpoints,
              ElementsAre("http://127.0.0.1:8080", "a \"quoted\" one"));
}

TEST_F(PostgresDeploymentStoreTest, HistoryIsPaginatedAndFiltered) {
  for (char c : {'1', '2', '3'}) Insert("production", Sha(c), "succeeded");
  Insert("staging", Sha('4'), "succeeded");
  auto first = store_->ListDeployments("production", {.page_size = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].image_sha.str(), Sha('3'));
  ASSERT_TRUE(first->next_before_id.has_value());
  auto second = store_->ListDeployments(
      "production", {.page_size = 2, .before_id = first->next_before_id});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].image_sha.str(), Sha('1'));
  EXPECT_FALSE(second->next_before_id.has_value());
  auto all = store_->ListDeployments("", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 4u);
}

TEST_F(PostgresDeploymentStoreTest, GetDeploymentAndNotFound) {
  Insert("production", Sha('a'), "failed");
  auto list = store_->ListDeployments("", {});
  ASSERT_TRUE(list.ok());
  auto d = store_->GetDeployment(list->items[0].deployment_id);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->state, DeploymentState::kFailed);
  ASSERT_TRUE(d->digest.has_value());
  EXPECT_EQ(store_->GetDeployment(424242).status().code(),
            absl::StatusCode::kNotFound);
}

// A second caller of the same process (queued in memory) and of another
// process (its own pool, polling the advisory lock) waits for the holder
// and runs once it has released, told who it waits for.
// MarkRunning reads in its one statement what GetHold and GetImageFacts
// read separately, and writes what Update writes.
TEST_F(PostgresDeploymentStoreTest, MarkRunningReadsTheHoldAndImageFacts) {
  const std::string canonical = "reg/app";
  const std::string digest = "sha256:" + std::string(64, 'e');
  NewDeployment fresh(*GitSha::Parse(Sha('a')));
  fresh.environment = "production";
  absl::StatusOr<DeploymentRecord> d = store_->Create(fresh);
  ASSERT_TRUE(d.ok()) << d.status();
  d->state = DeploymentState::kRunning;
  d->started_at = absl::FromUnixSeconds(1700000000);

  // Nothing recorded yet: no hold, no facts.
  absl::StatusOr<RunningChecks> none = store_->MarkRunning(*d, canonical);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->hold.held);
  EXPECT_EQ(none->hold.environment, "production");
  EXPECT_FALSE(none->image.canonical_digest.has_value());
  EXPECT_FALSE(none->image.in_staging);
  EXPECT_EQ(store_->GetDeployment(d->deployment_id)->state,
            DeploymentState::kRunning);

  // A hold by a rollback of B, and A built into both repositories.
  Insert("production", Sha('b'), "succeeded", false, "rollback");
  const int64_t rollback_id = store_->GetCurrent("production")->deployment_id;
  ASSERT_TRUE(store_->SetHold("production", rollback_id, "ops").ok());
  ASSERT_TRUE(
      pool_
          ->Run([&](pqxx::connection& c) {
            pqxx::work tx(c);
            for (const auto& [repo, type] :
                 {std::pair{canonical, "canonical"},
                  std::pair{std::string("reg/app-staging"), "staging"}}) {
              tx.exec_params(
                  "INSERT INTO images (repository, repository_type,"
                  " git_sha, digest, branch, signature_status)"
                  " VALUES ($1, $2, $3, $4, 'main', 'signed')",
                  repo, type, Sha('a'), digest);
            }
            tx.commit();
            return absl::OkStatus();
          })
          .ok());
  absl::StatusOr<RunningChecks> checks = store_->MarkRunning(*d, canonical);
  ASSERT_TRUE(checks.ok()) << checks.status();
  absl::StatusOr<HoldRecord> hold = store_->GetHold("production");
  absl::StatusOr<ImageFacts> facts =
      store_->GetImageFacts(canonical, *GitSha::Parse(Sha('a')));
  ASSERT_TRUE(hold.ok() && facts.ok());
  EXPECT_TRUE(checks->hold.held);
  EXPECT_EQ(checks->hold.deployment_id, rollback_id);
  EXPECT_EQ(checks->hold.held_by, "ops");
  EXPECT_EQ(checks->hold.held_sha, *GitSha::Parse(Sha('b')));
  EXPECT_EQ(checks->hold.held_since, hold->held_since);
  EXPECT_EQ(checks->hold.held_sha, hold->held_sha);
  EXPECT_EQ(checks->image.canonical_digest, *Digest::Parse(digest));
  EXPECT_EQ(checks->image.canonical_digest, facts->canonical_digest);
  EXPECT_TRUE(checks->image.in_staging);
  EXPECT_EQ(checks->image.signature_status, "signed");
  EXPECT_EQ(store_->GetDeployment(d->deployment_id)->started_at, d->started_at);

  DeploymentRecord missing = *d;
  missing.deployment_id += 1000;
  EXPECT_EQ(store_->MarkRunning(missing, canonical).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PostgresDeploymentStoreTest, ASecondCallerWaitsForTheLockThenRuns) {
  auto other_pool = PostgresPool::Connect({.url = url_});
  ASSERT_TRUE(other_pool.ok()) << other_pool.status();
  PostgresDeploymentStore other_process(**other_pool);
  for (DeploymentStore* second :
       {static_cast<DeploymentStore*>(store_.get()),
        static_cast<DeploymentStore*>(&other_process)}) {
    SCOPED_TRACE(second == store_.get() ? "same process" : "another process");
    absl::Notification held, release;
    int64_t holder_id = 0;
    std::thread first = HoldLock(*store_, held, release, &holder_id);
    held.WaitForNotification();
    std::optional<LockHolder> waited_for;
    bool released_before_run = false;
    LockWait wait;
    wait.max_wait = absl::Seconds(30);
    wait.on_wait = [&](const LockHolder& holder) {
      waited_for = holder;
      release.Notify();  // the holder finishes only once we wait
    };
    absl::Status s = second->WithEnvironmentLock("production", wait, [&] {
      released_before_run = release.HasBeenNotified();
      return absl::OkStatus();
    });
    first.join();
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(waited_for.has_value()) << "it never waited";
    EXPECT_EQ(waited_for->deployment_id, holder_id);
    EXPECT_EQ(waited_for->image_sha, Sha('1'));
    EXPECT_TRUE(released_before_run);
  }
}

TEST_F(PostgresDeploymentStoreTest, ZeroLockWaitIsAbortedNamingTheHolder) {
  auto other_pool = PostgresPool::Connect({.url = url_});
  ASSERT_TRUE(other_pool.ok()) << other_pool.status();
  PostgresDeploymentStore other_process(**other_pool);
  absl::Notification held, release;
  int64_t holder_id = 0;
  std::thread first = HoldLock(*store_, held, release, &holder_id);
  held.WaitForNotification();
  for (DeploymentStore* second :
       {static_cast<DeploymentStore*>(store_.get()),
        static_cast<DeploymentStore*>(&other_process)}) {
    SCOPED_TRACE(second == store_.get() ? "same process" : "another process");
    bool ran = false;
    absl::Status s = second->WithEnvironmentLock("production", {}, [&] {
      ran = true;
      return absl::OkStatus();
    });
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr(absl::StrCat("environment production is busy: "
                                       "deployment ",
                                       holder_id, " (", Sha('1'),
                                       ") has been in progress for")));
    EXPECT_THAT(std::string(s.message()), HasSubstr("(deploy.lock_wait)"));
    EXPECT_FALSE(ran);
  }
  release.Notify();
  first.join();
}

// Waiting ends at deploy.lock_wait, shortly before the caller's deadline, or
// when the caller goes away; the work never runs.
TEST_F(PostgresDeploymentStoreTest, AWaiterGivesUpAtItsBound) {
  absl::Notification held, release;
  int64_t holder_id = 0;
  std::thread first = HoldLock(*store_, held, release, &holder_id);
  held.WaitForNotification();
  struct Case {
    const char* name;
    // The wait, given when the call starts.
    std::function<LockWait(absl::Time)> wait;
    absl::StatusCode code;
    const char* message;
    absl::Duration at_least;
  };
  const std::vector<Case> cases = {
      {"deploy.lock_wait",
       [](absl::Time) { return LockWait{.max_wait = absl::Milliseconds(300)}; },
       absl::StatusCode::kAborted, "(deploy.lock_wait)",
       absl::Milliseconds(300)},
      {"the call's deadline",
       [](absl::Time start) {
         return LockWait{.max_wait = absl::Minutes(10),
                         .deadline = start + absl::Seconds(1)};
       },
       absl::StatusCode::kAborted,
       "until shortly before the call's deadline; deploy.lock_wait is 10m",
       absl::Milliseconds(500)},
      {"the caller went away",
       [](absl::Time start) {
         return LockWait{.max_wait = absl::Minutes(10), .cancelled = [start] {
                           return absl::Now() >=
                                  start + absl::Milliseconds(300);
                         }};
       },
       absl::StatusCode::kCancelled, "the caller went away",
       absl::Milliseconds(300)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Time start = absl::Now();
    bool ran = false;
    absl::Status s =
        store_->WithEnvironmentLock("production", c.wait(start), [&] {
          ran = true;
          return absl::OkStatus();
        });
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(s.message()), HasSubstr("waited"));
    EXPECT_GE(took, c.at_least);
    EXPECT_LT(took, absl::Seconds(5));
    EXPECT_FALSE(ran);
  }
  release.Notify();
  first.join();
}

// Queued callers hold no pooled connection: with a pool of 2 (one kept by
// the holder) and five callers waiting, reads still get a connection; the
// waiters then run one by one in arrival order.
TEST_F(PostgresDeploymentStoreTest, WaitersHoldNoConnectionAndRunInOrder) {
  auto small = PostgresPool::Connect(
      {.url = url_, .size = 2, .acquire_timeout = absl::Seconds(2)});
  ASSERT_TRUE(small.ok()) << small.status();
  PostgresDeploymentStore store(**small);
  absl::Notification held, release;
  int64_t holder_id = 0;
  std::thread first = HoldLock(store, held, release, &holder_id);
  held.WaitForNotification();
  std::mutex mu;
  std::vector<int> ran;
  std::vector<absl::Status> results(5);
  std::vector<std::thread> waiters;
  absl::Notification waiting[5];
  for (int i = 0; i < 5; ++i) {
    waiters.emplace_back([&, i] {
      LockWait wait;
      wait.max_wait = absl::Seconds(30);
      wait.on_wait = [&, i](const LockHolder&) { waiting[i].Notify(); };
      results[i] = store.WithEnvironmentLock("production", wait, [&] {
        std::lock_guard<std::mutex> l(mu);
        ran.push_back(i);
        return absl::OkStatus();
      });
    });
    // One at a time, so their arrival order is known.
    EXPECT_TRUE(waiting[i].WaitForNotificationWithTimeout(absl::Seconds(10)));
  }
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Page<DeploymentRecord>> list =
        store.ListDeployments("production", {});
    EXPECT_TRUE(list.ok()) << list.status();
    if (list.ok()) {
      EXPECT_EQ(list->items.size(), 1u);
    }
  }
  EXPECT_TRUE(ran.empty());
  release.Notify();
  first.join();
  for (std::thread& t : waiters) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(ran, ElementsAre(0, 1, 2, 3, 4));
}

}  // namespace
}  // namespace shapin::deploy

#include "build-svc/adapters/postgres_build_store.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "build-svc/adapters/postgres_build_change_feed.h"
#include "common/schema_migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/support/postgres_server.h"

namespace shapin::build {
namespace {

using ::testing::HasSubstr;

std::string Sha(int n) {
  std::string hex = absl::StrCat(absl::Hex(n, absl::kZeroPad8));
  return std::string(40 - hex.size(), 'a') + hex;
}

class PostgresBuildStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = shapin::testing::PostgresServer::StartOrDie().release();
  }
  static void TearDownTestSuite() { delete server_; }

  void SetUp() override {
    const std::string db = absl::StrCat(
        "builds_", ::testing::UnitTest::GetInstance()->random_seed(), "_",
        counter_++);
    absl::StatusOr<std::string> url = server_->CreateDatabase(db);
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    auto pool = PostgresPool::Connect({.url = *url});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(pool).value();
    ASSERT_TRUE(ApplyMigrations(*pool_).ok());
    store_ = std::make_unique<PostgresBuildStore>(*pool_);
  }

  void Exec(const std::string& sql) {
    ASSERT_TRUE(pool_
                    ->Run([&](pqxx::connection& c) {
                      pqxx::work tx(c);
                      tx.exec(sql);
                      tx.commit();
                      return absl::OkStatus();
                    })
                    .ok())
        << sql;
  }

  void InsertBuild(const std::string& sha, const std::string& branch,
                   const std::string& state = "queued") {
    Exec(absl::StrCat(
        "INSERT INTO builds (git_sha, branch, source_url, dockerfile, context,"
        " repository, repository_type, state) VALUES ('",
        sha, "', '", branch, "', 'file:///src', 'Dockerfile', '.', ",
        "'ghcr.io/mconstant/pay2slay-api', 'canonical', '", state, "')"));
  }

  static shapin::testing::PostgresServer* server_;
  static int counter_;
  std::string url_;
  std::unique_ptr<PostgresPool> pool_;
  std::unique_ptr<PostgresBuildStore> store_;
};
shapin::testing::PostgresServer* PostgresBuildStoreTest::server_ = nullptr;
int PostgresBuildStoreTest::counter_ = 0;

TEST_F(PostgresBuildStoreTest, EmptyDatabaseListsNothing) {
  auto page = store_->ListBuilds({}, {});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->items.empty());
  EXPECT_FALSE(page->next_before_id.has_value());
}

TEST_F(PostgresBuildStoreTest, ListsNewestFirstAcrossPages) {
  for (int i = 1; i <= 5; ++i) InsertBuild(Sha(i), i % 2 ? "main" : "feature");
  std::vector<std::string> seen;
  PageRequest page{.page_size = 2};
  for (int round = 0; round < 10; ++round) {
    auto result = store_->ListBuilds({}, page);
    ASSERT_TRUE(result.ok()) << result.status();
    for (const BuildRecord& b : result->items) seen.push_back(b.git_sha.str());
    if (!result->next_before_id) break;
    page.before_id = result->next_before_id;
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{Sha(5), Sha(4), Sha(3), Sha(2), Sha(1)}));
}

TEST_F(PostgresBuildStoreTest, FiltersByShaAndBranch) {
  InsertBuild(Sha(1), "main");
  InsertBuild(Sha(2), "feature/x");
  InsertBuild(Sha(1), "main");
  auto by_sha = store_->ListBuilds({.git_sha = *GitSha::Parse(Sha(1))}, {});
  ASSERT_TRUE(by_sha.ok());
  EXPECT_EQ(by_sha->items.size(), 2u);
  auto by_branch = store_->ListBuilds({.branch = "feature/x"}, {});
  ASSERT_TRUE(by_branch.ok());
  ASSERT_EQ(by_branch->items.size(), 1u);
  EXPECT_EQ(by_branch->items[0].git_sha.str(), Sha(2));
  EXPECT_EQ(by_branch->items[0].state, BuildState::kQueued);
  EXPECT_EQ(by_branch->items[0].repository_type, RepositoryType::kCanonical);
}

TEST_F(PostgresBuildStoreTest, GetBuildAndNotFound) {
  InsertBuild(Sha(7), "main", "failed");
  auto list = store_->ListBuilds({}, {});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  auto build = store_->GetBuild(list->items[0].build_id);
  ASSERT_TRUE(build.ok()) << build.status();
  EXPECT_EQ(build->state, BuildState::kFailed);
  EXPECT_EQ(build->dockerfile, "Dockerfile");
  auto missing = store_->GetBuild(999999);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("999999"));
}

TEST_F(PostgresBuildStoreTest, GetImageByRepositoryType) {
  const std::string digest = "sha256:" + std::string(64, 'c');
  Exec(absl::StrCat(
      "INSERT INTO images (repository, repository_type, git_sha, digest,"
      " size_bytes, branch) VALUES ('ghcr.io/mconstant/pay2slay-api-staging',"
      " 'staging', '",
      Sha(3), "', '", digest, "', 1234, 'feature')"));
  const GitSha sha = *GitSha::Parse(Sha(3));
  auto staging = store_->GetImage(sha, RepositoryType::kStaging);
  ASSERT_TRUE(staging.ok()) << staging.status();
  EXPECT_EQ(staging->digest.str(), digest);
  EXPECT_EQ(staging->size_bytes, 1234);
  EXPECT_EQ(staging->repository, "ghcr.io/mconstant/pay2slay-api-staging");
  auto canonical = store_->GetImage(sha, RepositoryType::kCanonical);
  EXPECT_EQ(canonical.status().code(), absl::StatusCode::kNotFound);
}

NewBuild Build(int n) {
  NewBuild b(*GitSha::Parse(Sha(n)));
  b.branch = "main";
  b.source_url = "file:///src";
  b.dockerfile = "Dockerfile";
  b.context = ".";
  b.repository = "ghcr.io/mconstant/pay2slay-api";
  b.repository_type = RepositoryType::kCanonical;
  return b;
}

ImageRecord Image(int n, char digest_hex) {
  ImageRecord i(*GitSha::Parse(Sha(n)),
                *Digest::Parse("sha256:" + std::string(64, digest_hex)));
  i.repository = "ghcr.io/mconstant/pay2slay-api";
  i.platform = "linux/amd64";
  i.branch = "main";
  return i;
}

TEST_F(PostgresBuildStoreTest, EveryClaimHasItsOwnFencingToken) {
  ASSERT_TRUE(store_->Enqueue(Build(1)).ok());
  auto first = store_->Claim("w1", absl::Seconds(30));
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  const BuildRecord& b = **first;
  EXPECT_GT(b.lease_token, 0);
  EXPECT_TRUE(
      store_->ConfirmLease(b.build_id, b.lease_token, absl::Seconds(30)).ok());

  // The lease runs out and another worker claims the build again: the first
  // claim's token no longer confirms nor records anything.
  Exec("UPDATE builds SET lease_expires_at = now() - interval '1 second'");
  ASSERT_EQ(*store_->ReapExpired(3), 1);
  auto second = store_->Claim("w2", absl::Seconds(30));
  ASSERT_TRUE(second.ok() && second->has_value()) << second.status();
  EXPECT_NE((*second)->lease_token, b.lease_token);
  absl::Status stale =
      store_->ConfirmLease(b.build_id, b.lease_token, absl::Seconds(30));
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  absl::Status record =
      store_->RecordPublication(b.build_id, b.lease_token, Image(1, 'a'));
  EXPECT_EQ(record.code(), absl::StatusCode::kFailedPrecondition) << record;
  EXPECT_FALSE(store_->RecordedImage(b.repository, b.git_sha)->has_value());
  EXPECT_TRUE(
      store_
          ->ConfirmLease(b.build_id, (*second)->lease_token, absl::Seconds(30))
          .ok());
}

TEST_F(PostgresBuildStoreTest, OneRunningBuildPerShaAcrossConcurrentClaims) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->Enqueue(Build(1)).ok());
  ASSERT_TRUE(store_->Enqueue(Build(2)).ok());
  std::vector<std::thread> claimers;
  std::atomic<int> claimed{0}, errors{0};
  for (int i = 0; i < 6; ++i) {
    claimers.emplace_back([&, i] {
      auto c = store_->Claim(absl::StrCat("w", i), absl::Seconds(30));
      if (!c.ok()) ++errors;
      if (c.ok() && c->has_value()) ++claimed;
    });
  }
  for (std::thread& t : claimers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claimed.load(), 2) << "one build of each SHA";
  // The invariant is the database's, not only the claim's.
  absl::Status second_running = pool_->Run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec(
        absl::StrCat("UPDATE builds SET state = 'running' WHERE git_sha = '",
                     Sha(1), "' AND state = 'queued'"));
    tx.commit();
    return absl::OkStatus();
  });
  EXPECT_EQ(second_running.code(), absl::StatusCode::kAlreadyExists)
      << second_running;
}

TEST_F(PostgresBuildStoreTest, TheLeaseOutlivesADatabaseRestart) {
  ASSERT_TRUE(store_->Enqueue(Build(1)).ok());
  auto claimed = store_->Claim("w1", absl::Seconds(30));
  ASSERT_TRUE(claimed.ok() && claimed->has_value()) << claimed.status();
  // The test server commits asynchronously: flush before the crash.
  Exec("CHECKPOINT");
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(server_->Restart().ok());
  const BuildRecord& b = **claimed;
  EXPECT_TRUE(
      store_->ConfirmLease(b.build_id, b.lease_token, absl::Seconds(30)).ok());
  auto other = store_->Claim("w2", absl::Seconds(30));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->has_value());
}

TEST_F(PostgresBuildStoreTest, RecordedPublicationKeepsItsDigest) {
  ASSERT_TRUE(store_->Enqueue(Build(1)).ok());
  auto claimed = store_->Claim("w1", absl::Seconds(30));
  ASSERT_TRUE(claimed.ok() && claimed->has_value()) << claimed.status();
  const BuildRecord& b = **claimed;
  ImageRecord image = Image(1, 'a');
  image.signature_status = "pending";
  ASSERT_TRUE(store_->RecordPublication(b.build_id, b.lease_token, image).ok());
  EXPECT_EQ((*store_->RecordedImage(b.repository, b.git_sha))->digest,
            image.digest);
  absl::Status other =
      store_->RecordPublication(b.build_id, b.lease_token, Image(1, 'b'));
  EXPECT_EQ(other.code(), absl::StatusCode::kAlreadyExists) << other;

  // Finish fills in what signing found; the digest stays.
  BuildResult result;
  result.build_id = b.build_id;
  result.state = BuildState::kSucceeded;
  result.outcome = BuildOutcome::kPublished;
  result.digest = image.digest;
  result.signature_status = "signed";
  result.image = image;
  result.image->signature_status = "signed";
  result.image->provenance_ref = "ghcr.io/mconstant/pay2slay-api@sha256:p";
  ASSERT_TRUE(store_->Finish("w1", result).ok());
  auto recorded = store_->GetImage(b.git_sha, RepositoryType::kCanonical);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->digest, image.digest);
  EXPECT_EQ(recorded->signature_status, "signed");
  EXPECT_EQ(recorded->provenance_ref,
            "ghcr.io/mconstant/pay2slay-api@sha256:p");
}

TEST_F(PostgresBuildStoreTest, AdoptionIsRecordedWithItsEventOrRefused) {
  ASSERT_TRUE(store_->Enqueue(Build(1)).ok());
  auto running = store_->Claim("w1", absl::Seconds(30));
  ASSERT_TRUE(running.ok() && running->has_value()) << running.status();
  ImageRecord image = Image(1, 'f');
  image.repository_type = RepositoryType::kCanonical;
  absl::Status busy = store_->AdoptImage(image, "ops", "checked by hand");
  EXPECT_EQ(busy.code(), absl::StatusCode::kFailedPrecondition) << busy;
  Exec("UPDATE builds SET state = 'canceled'");

  ASSERT_TRUE(store_->AdoptImage(image, "ops", "checked by hand").ok());
  auto recorded = store_->RecordedImage(image.repository, image.git_sha);
  ASSERT_TRUE(recorded.ok() && recorded->has_value()) << recorded.status();
  EXPECT_EQ((*recorded)->digest, image.digest);
  EXPECT_EQ((*recorded)->origin, kImageAdopted);
  EXPECT_EQ((*recorded)->signature_status, "unsigned");
  EXPECT_FALSE((*recorded)->build_id.has_value());
  pqxx::row event;
  ASSERT_TRUE(pool_
                  ->Run([&](pqxx::connection& c) {
                    pqxx::read_transaction tx(c);
                    event = tx.exec1(
                        "SELECT severity, message, details->>'adopted_by',"
                        " details->>'reason' FROM events"
                        " WHERE kind = 'image_adopted'");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(event[0].as<std::string>(), "warning");
  EXPECT_THAT(event[1].as<std::string>(), HasSubstr(image.digest.str()));
  EXPECT_EQ(event[2].as<std::string>(), "ops");
  EXPECT_EQ(event[3].as<std::string>(), "checked by hand");

  absl::Status again = store_->AdoptImage(image, "ops", "twice");
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
}

// What a change feed delivered, for a test to wait on.
class FeedLog {
 public:
  void Change(const BuildChange& c) {
    absl::MutexLock lock(&mu_);
    changes_.push_back(absl::StrCat(
        c.build_id, " ", c.state ? BuildStateName(*c.state) : "log"));
  }
  void Missed() {
    absl::MutexLock lock(&mu_);
    ++missed_;
  }
  // The next `n` changes (waits up to 20 s for them).
  std::vector<std::string> Next(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return changes_.size() - taken_ >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    std::vector<std::string> out(changes_.begin() + taken_, changes_.end());
    if (out.size() > n) out.resize(n);
    taken_ += out.size();
    return out;
  }
  bool AwaitMissed(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]()
                      ABSL_SHARED_LOCKS_REQUIRED(mu_) { return missed_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> changes_ ABSL_GUARDED_BY(mu_);
  size_t taken_ ABSL_GUARDED_BY(mu_) = 0;
  int missed_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(PostgresBuildStoreTest, TheChangeFeedReportsCommittedChangesAndOutages) {
  FeedLog log;
  std::unique_ptr<PostgresBuildChangeFeed> feed =
      PostgresBuildChangeFeed::Start(
          url_, {.on_change = [&](const BuildChange& c) { log.Change(c); },
                 .on_missed = [&] { log.Missed(); }});
  ASSERT_TRUE(log.AwaitMissed(1)) << "never connected";

  auto queued = store_->Enqueue(Build(1));
  ASSERT_TRUE(queued.ok()) << queued.status();
  const std::string id = absl::StrCat(queued->build_id);
  auto claimed = store_->Claim("w1", absl::Seconds(30));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE(store_->AppendLog(queued->build_id, {"a", "b", "c"}, "c").ok());
  // A lease renewal is not a change: nothing comes between the log lines
  // and the next phase.
  ASSERT_TRUE(
      store_->Heartbeat(queued->build_id, "w1", absl::Seconds(30)).ok());
  ASSERT_TRUE(store_->SetPhase(queued->build_id, "w1", "pushing").ok());
  BuildResult result;
  result.build_id = queued->build_id;
  result.state = BuildState::kFailed;
  result.error_code = "BUILD_FAILURE";
  ASSERT_TRUE(store_->Finish("w1", result).ok());
  EXPECT_EQ(log.Next(5),
            (std::vector<std::string>{
                absl::StrCat(id, " queued"), absl::StrCat(id, " running"),
                absl::StrCat(id, " log"), absl::StrCat(id, " running"),
                absl::StrCat(id, " failed")}));

  // A restart: the feed says so when it loses the database and again when
  // it is back, then delivers as before.
  Exec("CHECKPOINT");
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(log.AwaitMissed(2)) << "the outage went unreported";
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(log.AwaitMissed(3)) << "no reconnection";
  auto after = store_->Enqueue(Build(2));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(
      log.Next(1),
      (std::vector<std::string>{absl::StrCat(after->build_id, " queued")}));
  EXPECT_TRUE(feed->connected());
}

TEST_F(PostgresBuildStoreTest, DatabaseDownIsUnavailable) {
  ASSERT_TRUE(server_->Stop().ok());
  auto page = store_->ListBuilds({}, {});
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable)
      << page.status();
}

}  // namespace
}  // namespace shapin::build

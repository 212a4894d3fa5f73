#include "build-svc/adapters/postgres_build_store.h"

#include "absl/strings/str_cat.h"
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

TEST_F(PostgresBuildStoreTest, DatabaseDownIsUnavailable) {
  ASSERT_TRUE(server_->Stop().ok());
  auto page = store_->ListBuilds({}, {});
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable)
      << page.status();
}

}  // namespace
}  // namespace shapin::build

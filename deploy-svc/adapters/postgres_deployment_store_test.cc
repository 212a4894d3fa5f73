#include "deploy-svc/adapters/postgres_deployment_store.h"

#include "absl/strings/str_cat.h"
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

  static shapin::testing::PostgresServer* server_;
  static int counter_;
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

}  // namespace
}  // namespace shapin::deploy

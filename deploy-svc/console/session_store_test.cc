#include "deploy-svc/console/session_store.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shapin::console {
namespace {

using ::testing::MatchesRegex;

class SessionStoreTest : public ::testing::Test {
 protected:
  SessionOptions Options(size_t max_sessions = 100) {
    return {.idle_timeout = absl::Minutes(30),
            .max_age = absl::Hours(2),
            .max_sessions = max_sessions,
            .now = [this] { return now_; }};
  }
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(SessionStoreTest, IdsAndCsrfTokensAreRandomHex) {
  SessionStore store(Options());
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    Session s = store.Create("digest", "alice");
    EXPECT_THAT(s.id, MatchesRegex("[0-9a-f]{64}"));
    EXPECT_THAT(s.csrf_token, MatchesRegex("[0-9a-f]{64}"));
    EXPECT_NE(s.id, s.csrf_token);
    EXPECT_TRUE(seen.insert(s.id).second);
    EXPECT_TRUE(seen.insert(s.csrf_token).second);
  }
}

TEST_F(SessionStoreTest, FindsLiveSessionsOnly) {
  SessionStore store(Options());
  Session s = store.Create("digest-a", "alice");
  std::optional<Session> found = store.Find(s.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->identity, "alice");
  EXPECT_EQ(found->token_sha256, "digest-a");
  EXPECT_EQ(found->csrf_token, s.csrf_token);
  EXPECT_FALSE(store.Find("").has_value());
  EXPECT_FALSE(store.Find(s.csrf_token).has_value());
  EXPECT_FALSE(store.Find(s.id.substr(1)).has_value());
  store.Erase(s.id);
  EXPECT_FALSE(store.Find(s.id).has_value());
}

TEST_F(SessionStoreTest, IdleSessionsEndAndUseKeepsThemAliveUntilMaxAge) {
  SessionStore store(Options());
  Session idle = store.Create("d", "idle");
  Session busy = store.Create("d", "busy");
  for (int i = 0; i < 3; ++i) {
    now_ += absl::Minutes(20);
    EXPECT_TRUE(store.Find(busy.id).has_value()) << "after " << i;
  }
  EXPECT_FALSE(store.Find(idle.id).has_value());
  // Used every 20 minutes, it still ends two hours after login.
  now_ += absl::Minutes(20);
  ASSERT_TRUE(store.Find(busy.id).has_value());
  now_ += absl::Minutes(20);
  ASSERT_TRUE(store.Find(busy.id).has_value());
  now_ += absl::Minutes(20);
  EXPECT_FALSE(store.Find(busy.id).has_value());
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(SessionStoreTest, TheLeastRecentlyUsedGoesWhenFull) {
  SessionStore store(Options(/*max_sessions=*/2));
  Session a = store.Create("d", "a");
  now_ += absl::Seconds(1);
  Session b = store.Create("d", "b");
  now_ += absl::Seconds(1);
  ASSERT_TRUE(store.Find(a.id).has_value());  // a is now the fresher one
  now_ += absl::Seconds(1);
  Session c = store.Create("d", "c");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.Find(a.id).has_value());
  EXPECT_FALSE(store.Find(b.id).has_value());
  EXPECT_TRUE(store.Find(c.id).has_value());
}

TEST_F(SessionStoreTest, CsrfTokenMustBeTheSessionsOwn) {
  SessionStore store(Options());
  Session a = store.Create("d", "a");
  Session b = store.Create("d", "b");
  EXPECT_TRUE(SessionStore::CsrfMatches(a, a.csrf_token));
  EXPECT_FALSE(SessionStore::CsrfMatches(a, b.csrf_token));
  EXPECT_FALSE(SessionStore::CsrfMatches(a, ""));
  EXPECT_FALSE(SessionStore::CsrfMatches(a, a.csrf_token.substr(0, 63)));
  EXPECT_FALSE(SessionStore::CsrfMatches(a, a.id));
}

TEST_F(SessionStoreTest, NoticeIsShownOnce) {
  SessionStore store(Options());
  Session a = store.Create("d", "a");
  store.SetNotice(a.id, "rolled back");
  EXPECT_EQ(store.TakeNotice(a.id), "rolled back");
  EXPECT_EQ(store.TakeNotice(a.id), "");
  store.SetNotice("unknown", "x");  // no session: nothing kept
  EXPECT_EQ(store.TakeNotice("unknown"), "");
}

}  // namespace
}  // namespace shapin::console

// BoundedCache: expiry on a fake clock (no sleeps) and the size bound.
#include "common/bounded_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/registry/testing/fake_clock.h"
#include "gtest/gtest.h"

namespace shapin {
namespace {

TEST(BoundedCacheTest, ReturnsWhatWasStoredUnderThatKeyOnly) {
  BoundedCache<std::string> cache(4);
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  cache.Put("a", "1");
  cache.Put("b", "2");
  EXPECT_EQ(cache.Get("a"), "1");
  EXPECT_EQ(cache.Get("b"), "2");
  EXPECT_EQ(cache.Get("c"), std::nullopt);
  cache.Put("a", "3");  // replaced, not added
  EXPECT_EQ(cache.Get("a"), "3");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(BoundedCacheTest, AnEntryIsNotReturnedOnceItsTtlPassed) {
  registry::testing::FakeClock clock;
  BoundedCache<int> cache(4, absl::Seconds(60), &clock);
  cache.Put("a", 1);
  clock.Advance(absl::Seconds(59));
  EXPECT_EQ(cache.Get("a"), 1);
  cache.Put("b", 2);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(cache.Get("a"), std::nullopt);  // exactly 60 s: expired
  EXPECT_EQ(cache.Get("b"), 2);
  EXPECT_EQ(cache.size(), 1u) << "the expired entry is dropped";
  cache.Put("a", 3);  // stored again: a fresh TTL
  clock.Advance(absl::Seconds(59));
  EXPECT_EQ(cache.Get("a"), 3);
}

TEST(BoundedCacheTest, NeverHoldsMoreThanItsBoundAndEvictsTheOldestFirst) {
  BoundedCache<int> cache(3);
  for (int i = 0; i < 100; ++i) {
    cache.Put(absl::StrCat("k", i), i);
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Get("k96"), std::nullopt);
  EXPECT_EQ(cache.Get("k97"), 97);
  EXPECT_EQ(cache.Get("k99"), 99);
  // Storing k97 again makes it the newest: k98 goes next, not k97.
  cache.Put("k97", 97);
  cache.Put("new", 0);
  EXPECT_EQ(cache.Get("k98"), std::nullopt);
  EXPECT_EQ(cache.Get("k97"), 97);
  EXPECT_EQ(cache.Get("k99"), 99);
  EXPECT_EQ(cache.Get("new"), 0);
}

TEST(BoundedCacheTest, ConcurrentWritersStayWithinTheBound) {
  BoundedCache<int> cache(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 500; ++i) {
        cache.Put(absl::StrCat(t, "/", i), i);
        (void)cache.Get(absl::StrCat(t, "/", i / 2));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(cache.size(), 16u);
}

}  // namespace
}  // namespace shapin

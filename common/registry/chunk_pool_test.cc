#include "common/registry/chunk_pool.h"

#include <atomic>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace shapin::registry {
namespace {

TEST(ChunkPoolTest, HandsOutDistinctBuffersOfTheChunkSize) {
  ChunkPool pool(4096, 2);
  ChunkPool::Chunk a = pool.Take();
  ChunkPool::Chunk b = pool.Take();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_NE(a.data(), b.data());
  EXPECT_EQ(a.capacity(), 4096u);
  // Writable over the whole capacity, without touching the other buffer.
  std::memset(a.data(), 'a', a.capacity());
  std::memset(b.data(), 'b', b.capacity());
  EXPECT_EQ(a.data()[4095], 'a');
  EXPECT_EQ(b.data()[0], 'b');
  EXPECT_EQ(pool.max_in_use(), 2);
}

TEST(ChunkPoolTest, TakeWaitsUntilABufferIsReturned) {
  ChunkPool pool(4096, 1);
  ChunkPool::Chunk held = pool.Take();
  char* const first = held.data();
  std::atomic<bool> got{false};
  std::thread taker([&] {
    ChunkPool::Chunk c = pool.Take();
    EXPECT_EQ(c.data(), first) << "the returned buffer is reused";
    got = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(got.load()) << "a second buffer was handed out from a pool of 1";
  held = ChunkPool::Chunk();  // returns it
  taker.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool.max_in_use(), 1);
}

TEST(ChunkPoolTest, MovedChunkIsReturnedOnce) {
  ChunkPool pool(4096, 1);
  {
    ChunkPool::Chunk a = pool.Take();
    ChunkPool::Chunk b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(b);
  }
  // Exactly one buffer back: a second Take must wait while the first holds it.
  ChunkPool::Chunk again = pool.Take();
  EXPECT_TRUE(again);
  std::atomic<bool> got{false};
  std::thread taker([&] {
    ChunkPool::Chunk c = pool.Take();
    got = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(got.load()) << "the moved-from chunk returned its buffer too";
  again = ChunkPool::Chunk();
  taker.join();
}

}  // namespace
}  // namespace shapin::registry

// CoalescingImageResolver over a registry stand-in whose requests are held
// until the test lets them answer: which lookups share which request, and
// that none gets an answer read before it arrived. No sleeps: the test waits
// on the stand-in's and the resolver's own counters.
#include "deploy-svc/coalescing_image_resolver.h"

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace shapin::deploy {
namespace {

Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }

// Answers what the tag points at when the request arrives (as a registry
// does), then holds the answer until Release() lets that request return.
class HeldRegistry : public ImageResolver {
 public:
  absl::StatusOr<std::optional<Digest>> ResolveTag(
      const std::string& repository, absl::string_view tag) override {
    absl::MutexLock lock(&mu_);
    const int n = ++started_;
    absl::StatusOr<std::optional<Digest>> answer = answer_;
    tags_.push_back(repository + ":" + std::string(tag));
    auto released = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return hold_ == false || released_ >= n;
    };
    mu_.Await(absl::Condition(&released));
    return answer;
  }

  // What the tag points at from now on (a repoint), or the error to answer.
  void Set(absl::StatusOr<std::optional<Digest>> answer) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
  }
  // Lets requests 1..n return.
  void Release(int n) {
    absl::MutexLock lock(&mu_);
    released_ = n;
  }
  // Let every request return at once, now and later.
  void NoHold() {
    absl::MutexLock lock(&mu_);
    hold_ = false;
  }
  // Blocks until n requests have arrived.
  void AwaitStarted(int n) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return started_ >= n;
    };
    mu_.Await(absl::Condition(&arrived));
  }
  int started() {
    absl::MutexLock lock(&mu_);
    return started_;
  }
  std::vector<std::string> tags() {
    absl::MutexLock lock(&mu_);
    return tags_;
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<std::optional<Digest>> answer_ ABSL_GUARDED_BY(mu_) =
      std::optional<Digest>(D('a'));
  bool hold_ ABSL_GUARDED_BY(mu_) = true;
  int started_ ABSL_GUARDED_BY(mu_) = 0;
  int released_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> tags_ ABSL_GUARDED_BY(mu_);
};

// Spins (yielding) until `n` lookups wait inside the resolver.
void AwaitWaiting(const CoalescingImageResolver& resolver, int n) {
  while (resolver.waiting() < n) std::this_thread::yield();
}

class CoalescingImageResolverTest : public ::testing::Test {
 protected:
  // Starts a lookup of `tag` in its own thread; its answer lands in *out.
  void Lookup(absl::StatusOr<std::optional<Digest>>* out,
              const std::string& tag = "t") {
    threads_.emplace_back(
        [this, out, tag] { *out = resolver_.ResolveTag("reg/app", tag); });
  }
  void JoinAll() {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  void TearDown() override {
    registry_.NoHold();
    JoinAll();
  }

  HeldRegistry registry_;
  CoalescingImageResolver resolver_{registry_};
  std::vector<std::thread> threads_;
};

TEST_F(CoalescingImageResolverTest, SequentialLookupsEachAskTheRegistry) {
  registry_.NoHold();
  EXPECT_EQ(*resolver_.ResolveTag("reg/app", "t"), D('a'));
  registry_.Set(std::optional<Digest>(D('b')));  // repointed out of band
  EXPECT_EQ(*resolver_.ResolveTag("reg/app", "t"), D('b'));
  registry_.Set(std::optional<Digest>());  // deleted
  EXPECT_EQ(*resolver_.ResolveTag("reg/app", "t"), std::nullopt);
  EXPECT_EQ(resolver_.requests(), 3);
  EXPECT_EQ(resolver_.lookups(), 3);
}

// The property tamper detection rests on: a repoint that happened before a
// lookup started is seen by it, even while an older request is in flight.
TEST_F(CoalescingImageResolverTest, LookupArrivingDuringARequestNeverGetsIts) {
  absl::StatusOr<std::optional<Digest>> first, second;
  Lookup(&first);
  registry_.AwaitStarted(1);  // first's request read 'a'
  registry_.Set(std::optional<Digest>(D('b')));
  Lookup(&second);
  AwaitWaiting(resolver_, 1);
  EXPECT_EQ(registry_.started(), 1) << "second must not send while one is out";
  registry_.Release(1);
  registry_.NoHold();  // second's own request, sent after it arrived
  JoinAll();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, D('a'));
  EXPECT_EQ(*second, D('b'));
  EXPECT_EQ(registry_.started(), 2);
  EXPECT_EQ(resolver_.requests(), 2);
}

TEST_F(CoalescingImageResolverTest, LookupsArrivingDuringARequestShareTheNext) {
  absl::StatusOr<std::optional<Digest>> first;
  std::vector<absl::StatusOr<std::optional<Digest>>> later(4);
  Lookup(&first);
  registry_.AwaitStarted(1);
  registry_.Set(std::optional<Digest>(D('b')));
  for (auto& out : later) Lookup(&out);
  AwaitWaiting(resolver_, 4);
  registry_.Release(1);
  registry_.NoHold();
  JoinAll();
  EXPECT_EQ(*first, D('a'));
  for (const auto& out : later) {
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, D('b'));
  }
  EXPECT_EQ(registry_.started(), 2) << "four waiting lookups, one request";
  EXPECT_EQ(resolver_.requests(), 2);
  EXPECT_EQ(resolver_.lookups(), 5);
  EXPECT_EQ(resolver_.waiting(), 0);
}

TEST_F(CoalescingImageResolverTest, AnErrorIsSharedByItsRoundOnly) {
  absl::StatusOr<std::optional<Digest>> first, second, third;
  Lookup(&first);
  registry_.AwaitStarted(1);
  registry_.Set(absl::UnavailableError("registry down"));
  Lookup(&second);
  Lookup(&third);
  AwaitWaiting(resolver_, 2);
  registry_.Release(1);
  registry_.NoHold();
  JoinAll();
  EXPECT_EQ(*first, D('a'));
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_TRUE(absl::IsUnavailable(third.status())) << third.status();
  EXPECT_EQ(registry_.started(), 2);

  // The failure is not kept: the next lookup asks again.
  registry_.Set(std::optional<Digest>(D('c')));
  EXPECT_EQ(*resolver_.ResolveTag("reg/app", "t"), D('c'));
  EXPECT_EQ(resolver_.requests(), 3);
}

TEST_F(CoalescingImageResolverTest, DifferentTagsDoNotWaitForEachOther) {
  absl::StatusOr<std::optional<Digest>> one, two;
  Lookup(&one, "one");
  registry_.AwaitStarted(1);
  Lookup(&two, "two");
  // Sent while "one" is still out (or, wrongly, waiting for it).
  while (registry_.started() < 2 && resolver_.waiting() == 0) {
    std::this_thread::yield();
  }
  EXPECT_EQ(resolver_.waiting(), 0);
  registry_.NoHold();
  JoinAll();
  EXPECT_EQ(registry_.tags(),
            (std::vector<std::string>{"reg/app:one", "reg/app:two"}));
  // Same tag in another repository is another tag too.
  ASSERT_TRUE(resolver_.ResolveTag("reg/other", "one").ok());
  EXPECT_EQ(registry_.tags().back(), "reg/other:one");
}

}  // namespace
}  // namespace shapin::deploy

#include "base/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/parker.h"

namespace aurelay {
namespace {

TEST(SpscRing, CapacityRoundsUpToPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(1).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscRing<int>(64).capacity(), 64u);
}

TEST(SpscRing, FifoUntilFullThenRefuses) {
  SpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  EXPECT_EQ(ring.size(), 4u);
  int value = -1;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.try_pop(value));
    EXPECT_EQ(value, i);
  }
  EXPECT_FALSE(ring.try_pop(value));
  EXPECT_TRUE(ring.empty());
}

// The pipeline's batch pools: every batch fits, so such a push cannot fail; one that did would
// lose a batch, and stops the process saying so instead.
TEST(SpscRing, PushWithinCapacityStopsTheProcessWhenTheRingIsFull) {
  SpscRing<int> ring(2);
  ring.push_within_capacity(1);
  ring.push_within_capacity(2);
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_DEATH(ring.push_within_capacity(3), "a ring sized for every batch was full");
}

TEST(SpscRing, WrapsAroundManyTimes) {
  SpscRing<std::uint64_t> ring(8);
  std::uint64_t next_in = 0, next_out = 0, value = 0;
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.try_push(next_in++));
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(ring.try_pop(value));
      ASSERT_EQ(value, next_out++);
    }
  }
  EXPECT_TRUE(ring.empty());
}

// Objects whose lifetimes are counted: every object made must be destroyed exactly once, and
// the consumer must see them in the order they were made.
struct Tracked {
  static std::atomic<long> alive;
  explicit Tracked(std::uint64_t n) : sequence(n) { alive.fetch_add(1); }
  ~Tracked() { alive.fetch_sub(1); }
  std::uint64_t sequence;
};
std::atomic<long> Tracked::alive{0};

TEST(SpscRing, TwoThreadStressKeepsOrderAndLifetimes) {
  constexpr std::uint64_t kItems = 2'000'000;
  SpscRing<Tracked*> ring(64);
  Parker data_ready;
  Parker space_free;
  std::atomic<bool> producer_done{false};

  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kItems; ++i) {
      Tracked* item = new Tracked(i);
      while (!ring.try_push(item))
        space_free.wait_until([&] { return ring.size() < ring.capacity(); },
                              std::chrono::milliseconds(10));
      data_ready.notify();
    }
    producer_done.store(true);
    data_ready.notify();
  });

  std::uint64_t expected = 0;
  bool in_order = true;
  while (true) {
    Tracked* item = nullptr;
    if (ring.try_pop(item)) {
      space_free.notify();
      in_order = in_order && item->sequence == expected;
      ++expected;
      delete item;
      continue;
    }
    if (producer_done.load() && ring.empty()) break;
    data_ready.wait_until([&] { return !ring.empty() || producer_done.load(); },
                          std::chrono::milliseconds(10));
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kItems);
  EXPECT_EQ(Tracked::alive.load(), 0);
}

TEST(Parker, WaitTimesOutWithoutNews) {
  Parker parker;
  auto start = std::chrono::steady_clock::now();
  parker.wait_until([] { return false; }, std::chrono::milliseconds(20));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(15));
}

TEST(Parker, NotifyWakesASleeper) {
  Parker parker;
  std::atomic<bool> flag{false};
  std::thread notifier([&] {
    // The pause is the test: the waiter parks before the notification comes.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    flag.store(true);
    parker.notify();
  });
  // Generous timeout: the sleeper must come back through notify(), long before it.
  auto start = std::chrono::steady_clock::now();
  while (!flag.load()) parker.wait_until([&] { return flag.load(); }, std::chrono::seconds(30));
  notifier.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace aurelay

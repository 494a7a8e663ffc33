// Overflow policies: block (timeout, wake-up on release), drop_newest, drop_oldest; every drop counted.
#include <cstring>
#include <thread>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using namespace std::chrono_literals;
using testing::ShmGuard;
using testing::unique_name;

RingOptions options(const std::string& name, OverflowPolicy policy, uint32_t slots = 2) {
  RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = 4096;
  o.policy = policy;
  o.block_timeout = 40ms;
  return o;
}

void fill(Ring& ring, uint64_t first, int n) {
  for (int i = 0; i < n; ++i) {
    auto s = ring.acquire(10ms);
    ASSERT_TRUE(s);
    const uint64_t v = first + static_cast<uint64_t>(i);
    std::memcpy(s->data(), &v, sizeof v);
    ring.publish(std::move(*s));
  }
}

uint64_t value_of(const ReadSlot& s) {
  uint64_t v;
  std::memcpy(&v, s.data(), sizeof v);
  return v;
}

TEST(ShmPolicy, BlockWaitsForTheTimeoutThenReturnsNothingWithoutADrop) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, OverflowPolicy::kBlock));
  fill(sut, 0, 2);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(sut.acquire().has_value());  // handle default: 40 ms
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 35ms);
  const RingCounters c = sut.counters();
  EXPECT_EQ(c.block_timeouts, 1u);
  EXPECT_EQ(c.total_dropped(), 0u);
}

TEST(ShmPolicy, BlockedProducerIsWokenByRelease) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, OverflowPolicy::kBlock));
  Ring consumer = Ring::attach(name);
  fill(sut, 0, 2);
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    std::vector<ReadSlot> got;
    ASSERT_EQ(consumer.claim(got, 1, 10ms), 1u);
    consumer.release(std::move(got[0]));
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto s = sut.acquire(5000ms);
  EXPECT_TRUE(s.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  t.join();
}

TEST(ShmPolicy, DropNewestRefusesAtOnceAndCountsRingFull) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, OverflowPolicy::kDropNewest));
  fill(sut, 0, 2);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(sut.acquire(1000ms).has_value());
  EXPECT_FALSE(sut.acquire(1000ms).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(sut.counters().dropped[static_cast<size_t>(DropReason::kRingFull)], 2u);
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 4, 10ms), 2u);
  EXPECT_EQ(value_of(got[0]), 0u);  // the queued ones survive
  EXPECT_EQ(value_of(got[1]), 1u);
}

TEST(ShmPolicy, DropOldestEvictsTheOldestReadyEventAndCountsIt) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, OverflowPolicy::kDropOldest, 3));
  fill(sut, 0, 3);
  fill(sut, 3, 2);  // evicts 0 and 1
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 8, 10ms), 3u);
  EXPECT_EQ(value_of(got[0]), 2u);
  EXPECT_EQ(value_of(got[1]), 3u);
  EXPECT_EQ(value_of(got[2]), 4u);
  const RingCounters c = sut.counters();
  EXPECT_EQ(c.dropped[static_cast<size_t>(DropReason::kEvictedOldest)], 2u);
  EXPECT_EQ(c.published, 5u);
  EXPECT_EQ(c.occupancy, 3u);
}

TEST(ShmPolicy, DropOldestNeverEvictsClaimedSlotsAndCountsRingFullInstead) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, OverflowPolicy::kDropOldest, 2));
  fill(sut, 0, 2);
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 2, 10ms), 2u);
  EXPECT_FALSE(sut.acquire(10ms).has_value());
  const RingCounters c = sut.counters();
  EXPECT_EQ(c.dropped[static_cast<size_t>(DropReason::kRingFull)], 1u);
  EXPECT_EQ(c.dropped[static_cast<size_t>(DropReason::kEvictedOldest)], 0u);
  EXPECT_EQ(value_of(got[0]), 0u);  // claimed data untouched
  EXPECT_EQ(value_of(got[1]), 1u);
}

TEST(ShmPolicy, EachHandleUsesItsOwnPolicy) {
  ShmGuard name(unique_name());
  Ring blocking = Ring::create(options(name, OverflowPolicy::kBlock, 1));
  Ring dropping = Ring::attach(name, OverflowPolicy::kDropNewest);
  EXPECT_EQ(dropping.policy(), OverflowPolicy::kDropNewest);
  fill(blocking, 0, 1);
  EXPECT_FALSE(dropping.acquire(1000ms).has_value());
  EXPECT_EQ(blocking.counters().dropped[static_cast<size_t>(DropReason::kRingFull)], 1u);
}

}  // namespace
}  // namespace peaknet::shm

// Ring operations in one process: create/attach, acquire/publish/claim/release, FIFO, batches,
// finish, counters, permissions, data area, several threads.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using namespace std::chrono_literals;
using testing::ShmGuard;
using testing::unique_name;

RingOptions options(const std::string& name, uint32_t slots = 8, uint64_t slot_bytes = 4096) {
  RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = slot_bytes;
  return o;
}

void publish_value(Ring& ring, uint64_t value) {
  auto slot = ring.acquire(100ms);
  ASSERT_TRUE(slot.has_value());
  std::memcpy(slot->data(), &value, sizeof value);
  ring.publish(std::move(*slot));
}

uint64_t value_of(const ReadSlot& s) {
  uint64_t v;
  std::memcpy(&v, s.data(), sizeof v);
  return v;
}

TEST(ShmRing, CreateRoundsSlotBytesToPagesAndExposesGeometry) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 5, 5000));
  EXPECT_EQ(sut.slot_count(), 5u);
  EXPECT_EQ(sut.slot_bytes(), 8192u);
  EXPECT_EQ(sut.name(), name.name());
  EXPECT_EQ(sut.data_area_bytes(), 5u * 8192u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(sut.data_area()) % 4096, 0u);
  EXPECT_TRUE(Ring::exists(name));
}

TEST(ShmRing, SlotsAreContiguousInTheDataArea) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 4));
  std::vector<WriteSlot> slots;
  for (int i = 0; i < 4; ++i) {
    auto s = sut.acquire(10ms);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->data(), sut.data_area() + size_t{s->index()} * sut.slot_bytes());
    EXPECT_EQ(s->size(), sut.slot_bytes());
    slots.push_back(std::move(*s));
  }
  std::set<uint32_t> indices;
  for (auto& s : slots) indices.insert(s.index());
  EXPECT_EQ(indices.size(), 4u);
}

TEST(ShmRing, PublishedEventIsClaimedByAnotherHandleWithItsBytes) {
  ShmGuard name(unique_name());
  Ring producer = Ring::create(options(name));
  Ring consumer = Ring::attach(name);
  auto slot = producer.acquire(10ms);
  ASSERT_TRUE(slot);
  std::memset(slot->data(), 0xAB, slot->size());
  producer.publish(std::move(*slot));

  std::vector<ReadSlot> got;
  ASSERT_EQ(consumer.claim(got, 4, 100ms), 1u);
  EXPECT_TRUE(
      std::all_of(got[0].data(), got[0].data() + got[0].size(), [](std::byte b) { return b == std::byte{0xAB}; }));
  consumer.release(std::move(got[0]));
  const RingCounters c = consumer.counters();
  EXPECT_EQ(c.published, 1u);
  EXPECT_EQ(c.consumed, 1u);
  EXPECT_EQ(c.released, 1u);
  EXPECT_EQ(c.occupancy, 0u);
  EXPECT_EQ(c.occupancy_hwm, 1u);
  EXPECT_EQ(c.free, 8u);
}

TEST(ShmRing, ClaimDeliversInPublishOrderAndRespectsMax) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 16));
  for (uint64_t v = 0; v < 10; ++v) publish_value(sut, v);
  std::vector<ReadSlot> got;
  EXPECT_EQ(sut.claim(got, 4, 10ms), 4u);
  EXPECT_EQ(sut.claim(got, 100, 10ms), 6u);
  ASSERT_EQ(got.size(), 10u);
  for (uint64_t v = 0; v < 10; ++v) {
    EXPECT_EQ(value_of(got[v]), v);
    EXPECT_EQ(got[v].sequence(), v);
  }
}

TEST(ShmRing, FifoHoldsAcrossSlotReuse) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 3));
  uint64_t next_expected = 0;
  std::vector<ReadSlot> got;
  for (uint64_t v = 0; v < 100; ++v) {
    publish_value(sut, v);
    if (v % 3 == 2) {
      got.clear();
      ASSERT_EQ(sut.claim(got, 3, 10ms), 3u);
      for (auto& s : got) {
        EXPECT_EQ(value_of(s), next_expected++);
        sut.release(std::move(s));
      }
    }
  }
}

TEST(ShmRing, ReleaseInAnyOrderFreesEverySlot) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 6));
  for (uint64_t v = 0; v < 6; ++v) publish_value(sut, v);
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 6, 10ms), 6u);
  for (int i : {3, 0, 5, 1, 4, 2}) sut.release(std::move(got[static_cast<size_t>(i)]));
  EXPECT_EQ(sut.counters().free, 6u);
  EXPECT_EQ(sut.counters().released, 6u);
}

TEST(ShmRing, ClaimTimesOutWithZeroWhenNothingIsReady) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name));
  std::vector<ReadSlot> got;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(sut.claim(got, 1, 50ms), 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
  EXPECT_TRUE(got.empty());
}

TEST(ShmRing, SleepingConsumerIsWokenByPublish) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name));
  Ring consumer = Ring::attach(name);
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    publish_value(sut, 42);
  });
  std::vector<ReadSlot> got;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(consumer.claim(got, 1, 5000ms), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  t.join();
  EXPECT_EQ(value_of(got[0]), 42u);
}

TEST(ShmRing, WriteSlotDestroyedUnpublishedReturnsToFreeAndIsCounted) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 2));
  {
    auto slot = sut.acquire(10ms);
    ASSERT_TRUE(slot);
  }
  const RingCounters c = sut.counters();
  EXPECT_EQ(c.abandoned, 1u);
  EXPECT_EQ(c.free, 2u);
  EXPECT_EQ(c.published, 0u);
}

TEST(ShmRing, ReadSlotDestroyedUnreleasedIsReleased) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(options(name, 2));
  publish_value(sut, 1);
  {
    std::vector<ReadSlot> got;
    ASSERT_EQ(sut.claim(got, 1, 10ms), 1u);
  }
  EXPECT_EQ(sut.counters().released, 1u);
  EXPECT_EQ(sut.counters().free, 2u);
}

TEST(ShmRing, FinishedOnlyAfterEveryProducerFinishedAndRingDrained) {
  ShmGuard name(unique_name());
  Ring consumer = Ring::create(options(name));
  EXPECT_FALSE(consumer.finished()) << "no producer yet";
  Ring p1 = Ring::attach(name);
  Ring p2 = Ring::attach(name);
  p1.begin_producing();
  p2.begin_producing();
  publish_value(p1, 1);
  p1.finish_producing();
  EXPECT_FALSE(consumer.finished()) << "p2 still producing";
  p2.finish_producing();
  EXPECT_FALSE(consumer.finished()) << "one event still ready";
  std::vector<ReadSlot> got;
  ASSERT_EQ(consumer.claim(got, 8, 10ms), 1u);
  EXPECT_FALSE(consumer.finished()) << "one event still claimed";
  consumer.release(std::move(got[0]));
  EXPECT_TRUE(consumer.finished());
  EXPECT_EQ(consumer.claim(got, 8, 1000ms), 0u);
}

TEST(ShmRing, FinishWakesAWaitingConsumerAtOnce) {
  ShmGuard name(unique_name());
  Ring producer = Ring::create(options(name));
  Ring consumer = Ring::attach(name);
  producer.begin_producing();
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    producer.finish_producing();
  });
  std::vector<ReadSlot> got;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(consumer.claim(got, 1, 5000ms), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  EXPECT_TRUE(consumer.finished());
  t.join();
}

TEST(ShmRing, OpenOrCreateKeepsQueuedEventsForARestartedProducer) {
  ShmGuard name(unique_name());
  Ring consumer = Ring::open_or_create(options(name));
  {
    Ring producer = Ring::open_or_create(options(name));
    publish_value(producer, 7);
    producer.finish_producing();
  }
  Ring restarted = Ring::open_or_create(options(name));
  publish_value(restarted, 8);
  std::vector<ReadSlot> got;
  ASSERT_EQ(consumer.claim(got, 8, 10ms), 2u);
  EXPECT_EQ(value_of(got[0]), 7u);
  EXPECT_EQ(value_of(got[1]), 8u);
}

TEST(ShmRing, CreateFailsWhileAnotherHandleIsAlive) {
  ShmGuard name(unique_name());
  Ring first = Ring::create(options(name));
  try {
    Ring::create(options(name));
    FAIL() << "expected ShmError";
  } catch (const ShmError& e) {
    EXPECT_NE(std::string(e.what()).find("live users"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(name.name()), std::string::npos) << e.what();
  }
}

TEST(ShmRing, PermissionsAre0600Or0660WhenGroupShareable) {
  ShmGuard a(unique_name("a"));
  ShmGuard b(unique_name("b"));
  const mode_t old = ::umask(0077);  // mode must not depend on the umask
  Ring ra = Ring::create(options(a));
  RingOptions ob = options(b);
  ob.group_shareable = true;
  Ring rb = Ring::create(ob);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + a.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(("/dev/shm/" + b.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST(ShmRing, UnlinkRemovesTheSegmentAndIsIdempotent) {
  ShmGuard name(unique_name());
  { Ring sut = Ring::create(options(name)); }
  EXPECT_TRUE(Ring::exists(name));
  Ring::unlink(name);
  EXPECT_FALSE(Ring::exists(name));
  EXPECT_NO_THROW(Ring::unlink(name));
}

TEST(ShmRing, ListShowsRingsWithUsersAndStaleness) {
  const std::string prefix = unique_name("list");
  ShmGuard live(prefix + "-live");
  ShmGuard idle(prefix + "-idle");
  Ring ring = Ring::create(options(live));
  { Ring gone = Ring::create(options(idle)); }
  const auto infos = Ring::list(prefix);
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].name, idle.name());
  EXPECT_EQ(infos[0].kind, "ring");
  EXPECT_TRUE(infos[0].problem.empty());
  EXPECT_TRUE(infos[0].stale);
  EXPECT_EQ(infos[1].name, live.name());
  EXPECT_FALSE(infos[1].stale);
  ASSERT_EQ(infos[1].users.size(), 1u);
  EXPECT_EQ(infos[1].users[0].pid, ::getpid());
  EXPECT_TRUE(infos[1].users[0].alive);
}

TEST(ShmRing, PolicyNamesRoundTrip) {
  for (auto p : {OverflowPolicy::kBlock, OverflowPolicy::kDropOldest, OverflowPolicy::kDropNewest}) {
    EXPECT_EQ(parse_overflow_policy(to_string(p)), p);
  }
  EXPECT_THROW(parse_overflow_policy("sometimes"), ShmError);
  EXPECT_EQ(to_string(DropReason::kHalfWritten), "half_written");
}

// Several producer and consumer threads on their own handles: no loss, no duplicate, FIFO per producer.
TEST(ShmRing, ThreadsMoveEveryEventExactlyOnceInProducerOrder) {
  ShmGuard name(unique_name());
  constexpr int kProducers = 3, kConsumers = 3;
  const uint64_t kPerProducer = static_cast<uint64_t>(testing::scaled(20000));
  Ring guard = Ring::create(options(name, 16));
  guard.begin_producing();
  std::vector<std::vector<uint64_t>> seen(kConsumers);
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      Ring ring = Ring::attach(name);
      std::vector<ReadSlot> got;
      for (;;) {
        got.clear();
        if (ring.claim(got, 4, 100ms) == 0) {
          if (ring.finished()) return;
          continue;
        }
        for (auto& s : got) {
          seen[static_cast<size_t>(c)].push_back(value_of(s));
          ring.release(std::move(s));
        }
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      Ring ring = Ring::attach(name);
      for (uint64_t i = 0; i < kPerProducer; ++i) {
        std::optional<WriteSlot> s;
        while (!(s = ring.acquire(100ms))) {}
        const uint64_t v = (uint64_t(p) << 32) | i;
        std::memcpy(s->data(), &v, sizeof v);
        ring.publish(std::move(*s));
      }
      ring.finish_producing();
    });
  }
  for (auto& t : producers) t.join();
  guard.finish_producing();
  for (auto& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& v : seen) {
    std::map<uint64_t, int64_t> last;
    for (uint64_t x : v) {
      const uint64_t p = x >> 32;
      const int64_t i = static_cast<int64_t>(x & 0xFFFFFFFF);
      auto it = last.find(p);
      if (it != last.end()) {
        EXPECT_GT(i, it->second) << "FIFO per producer violated";
      }
      last[p] = i;
    }
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kProducers} * kPerProducer);
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "duplicate delivery";
  const RingCounters c = guard.counters();
  EXPECT_EQ(c.published, size_t{kProducers} * kPerProducer);
  EXPECT_EQ(c.released, c.published);
  EXPECT_EQ(c.occupancy, 0u);
  EXPECT_LE(c.occupancy_hwm, 16u);
}

}  // namespace
}  // namespace peaknet::shm

// Dead users: a forked child attaches, takes slots and dies by SIGKILL; the survivors recover.
#include <sys/wait.h>

#include <cstring>
#include <thread>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using namespace std::chrono_literals;
using testing::ShmGuard;
using testing::small_ring;
using testing::unique_name;

// Runs body in a forked child that must die by SIGKILL (bodies raise it while their Ring is alive:
// no destructor, no detach). Returns once the child is dead.
template <typename Body>
void in_child_then_killed(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    try {
      body();
    } catch (...) {
      ::_exit(1);
    }
    ::raise(SIGKILL);
    ::_exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child failed: " << status;
}

void publish_value(Ring& ring, uint64_t v) {
  auto s = ring.acquire(10ms);
  ASSERT_TRUE(s);
  std::memcpy(s->data(), &v, sizeof v);
  ring.publish(std::move(*s));
}

TEST(ShmRecovery, HalfWrittenSlotOfADeadProducerIsDiscardedAndCounted) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(small_ring(name));
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    publish_value(ring, 1);
    auto s = ring.acquire(10ms);  // dies while writing this one
    std::memset(s->data(), 0xFF, 100);
    ::raise(SIGKILL);
  });
  EXPECT_EQ(sut.counters().writing, 1u);
  EXPECT_EQ(sut.reclaim_dead(), 1u);
  const RingCounters c = sut.counters();
  EXPECT_EQ(c.writing, 0u);
  EXPECT_EQ(c.dropped[static_cast<size_t>(DropReason::kHalfWritten)], 1u);
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 8, 10ms), 1u) << "only the published event is delivered";
  uint64_t v;
  std::memcpy(&v, got[0].data(), sizeof v);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(sut.reclaim_dead(), 0u) << "recovered exactly once";
}

TEST(ShmRecovery, ClaimedSlotsOfADeadConsumerAreRequeuedExactlyOnce) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(small_ring(name));
  for (uint64_t v = 0; v < 3; ++v) publish_value(sut, v);
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    std::vector<ReadSlot> got;
    if (ring.claim(got, 2, 10ms) != 2) ::_exit(3);
    ::raise(SIGKILL);
  });
  EXPECT_EQ(sut.counters().claimed, 2u);
  EXPECT_EQ(sut.reclaim_dead(), 2u);
  EXPECT_EQ(sut.reclaim_dead(), 0u);
  const RingCounters c = sut.counters();
  EXPECT_EQ(c.requeued, 2u);
  EXPECT_EQ(c.ready, 3u);
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 8, 10ms), 3u);
  for (uint64_t v = 0; v < 3; ++v) {
    uint64_t x;
    std::memcpy(&x, got[v].data(), sizeof x);
    EXPECT_EQ(x, v) << "requeued events keep their place in the order";
  }
  EXPECT_EQ(sut.counters().consumed, 5u);
}

TEST(ShmRecovery, WaitingConsumerRecoversADeadConsumersClaimsByItself) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(small_ring(name));
  publish_value(sut, 5);
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    std::vector<ReadSlot> got;
    if (ring.claim(got, 1, 10ms) != 1) ::_exit(3);
    ::raise(SIGKILL);
  });
  std::vector<ReadSlot> got;
  EXPECT_EQ(sut.claim(got, 1, 3000ms), 1u);  // periodic reclaim inside the wait
  EXPECT_EQ(sut.counters().requeued, 1u);
}

TEST(ShmRecovery, BlockedProducerRecoversADeadConsumersSlotsByItself) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(small_ring(name, 2));
  publish_value(sut, 1);
  publish_value(sut, 2);
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    std::vector<ReadSlot> got;
    if (ring.claim(got, 2, 10ms) != 2) ::_exit(3);
    ::raise(SIGKILL);
  });
  // Both slots go back to READY, none free: the producer still times out, but the events are safe.
  EXPECT_FALSE(sut.acquire(300ms).has_value());
  EXPECT_EQ(sut.counters().requeued, 2u);
  EXPECT_EQ(sut.counters().ready, 2u);
}

TEST(ShmRecovery, AKilledButNotYetReapedUserCountsAsDead) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(small_ring(name));
  publish_value(sut, 1);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    Ring ring = Ring::attach(name);
    std::vector<ReadSlot> got;
    if (ring.claim(got, 1, 10ms) != 1) ::_exit(3);
    char c = 1;
    if (::write(ready[1], &c, 1) != 1) ::_exit(4);
    ::raise(SIGKILL);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  // The child is a zombie until waitpid: its mapping is gone, so it must count as dead already.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  size_t recovered = 0;
  while (recovered == 0 && std::chrono::steady_clock::now() < deadline) {
    recovered = sut.reclaim_dead();
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(recovered, 1u);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(ShmRecovery, DeadUnfinishedProducerKeepsTheStreamOpenUntilANewProducerFinishes) {
  ShmGuard name(unique_name());
  Ring consumer = Ring::create(small_ring(name));
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    publish_value(ring, 1);
    ::raise(SIGKILL);
  });
  consumer.reclaim_dead();
  std::vector<ReadSlot> got;
  ASSERT_EQ(consumer.claim(got, 8, 10ms), 1u);
  consumer.release(std::move(got[0]));
  EXPECT_FALSE(consumer.finished()) << "the producer died without finishing";
  Ring restarted = Ring::attach(name);
  publish_value(restarted, 2);
  restarted.finish_producing();
  got.clear();
  ASSERT_EQ(consumer.claim(got, 8, 10ms), 1u);
  consumer.release(std::move(got[0]));
  EXPECT_TRUE(consumer.finished());
}

TEST(ShmRecovery, DeadUsersLeaveTheProcessTableAndTheSegmentBecomesStale) {
  ShmGuard name(unique_name());
  { Ring creator = Ring::create(small_ring(name)); }
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    ::raise(SIGKILL);
  });
  auto infos = Ring::list(name.name());
  ASSERT_EQ(infos.size(), 1u);
  ASSERT_EQ(infos[0].users.size(), 1u);
  EXPECT_FALSE(infos[0].users[0].alive);
  EXPECT_TRUE(infos[0].stale);
  Ring replacement = Ring::create(small_ring(name, 6));  // stale: replaced, not an error
  EXPECT_EQ(replacement.slot_count(), 6u);
  EXPECT_EQ(replacement.users().size(), 1u);
}

TEST(ShmRecovery, OpenOrCreateAdoptsAStaleCompatibleSegmentWithItsEvents) {
  ShmGuard name(unique_name());
  { Ring creator = Ring::create(small_ring(name)); }
  in_child_then_killed([&] {
    Ring ring = Ring::attach(name);
    publish_value(ring, 77);
    ::raise(SIGKILL);
  });
  Ring sut = Ring::open_or_create(small_ring(name));  // attach reclaims the dead producer's entry
  std::vector<ReadSlot> got;
  ASSERT_EQ(sut.claim(got, 8, 10ms), 1u);
  uint64_t v;
  std::memcpy(&v, got[0].data(), sizeof v);
  EXPECT_EQ(v, 77u);
}

}  // namespace
}  // namespace peaknet::shm

// wait_for_q2_readers: a CUDA inferd with masks in its device pool keeps running at the end of a drain
// until its results are read off Q2 (their masks die with the process), bounded, and says what is left.
#include <gtest/gtest.h>

#include <thread>

#include "device_mask_linger.hpp"
#include "inferd_test_events.hpp"

namespace peaknet::inferd {
namespace {

using namespace std::chrono_literals;

struct Q2 {
  testing::ShmRun run{"linger"};
  shm::Ring ring = shm::Ring::create(testing::ring_options(run.q2(), 8, 4096));

  void publish(int n) {
    for (int i = 0; i < n; ++i) {
      auto slot = ring.acquire(1s);
      ASSERT_TRUE(slot.has_value());
      ring.publish(std::move(*slot));
    }
  }
};

TEST(DeviceMaskLinger, ReturnsAtOnceWhenQ2IsEmpty) {
  Q2 q2;
  std::atomic<bool> stop{false};
  const auto r = wait_for_q2_readers(q2.ring, 10s, stop);
  EXPECT_EQ(r.left_in_q2, 0u);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.stopped);
}

TEST(DeviceMaskLinger, WaitsUntilAConsumerHasReleasedEveryResult) {
  Q2 q2;
  q2.publish(3);
  std::atomic<bool> stop{false};
  std::atomic<int> released{0};
  std::thread reader([&] {  // a writerd: claims, "reads the mask", releases
    shm::Ring consumer = shm::Ring::attach(q2.ring.name());
    std::vector<shm::ReadSlot> slots;
    while (released < 3) {
      if (consumer.claim(slots, 1, 1s) == 0) continue;
      std::this_thread::sleep_for(50ms);
      for (auto& s : slots) consumer.release(std::move(s));
      slots.clear();
      ++released;
    }
  });
  int beats = 0;
  const auto r = wait_for_q2_readers(q2.ring, 30s, stop, [&] { ++beats; });
  const int released_at_return = released.load();
  reader.join();
  EXPECT_EQ(released_at_return, 3) << "returned before every result was read";
  EXPECT_EQ(r.left_in_q2, 0u);
  EXPECT_FALSE(r.timed_out);
  EXPECT_GT(beats, 0) << "no heartbeat while waiting";
}

TEST(DeviceMaskLinger, GivesUpAfterTheLimitAndSaysHowManyAreLeft) {
  Q2 q2;
  q2.publish(2);  // nobody reads
  std::atomic<bool> stop{false};
  const auto r = wait_for_q2_readers(q2.ring, 100ms, stop);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.left_in_q2, 2u);
}

TEST(DeviceMaskLinger, AStopRequestEndsTheWait) {
  Q2 q2;
  q2.publish(1);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stop = true;
  });
  const auto r = wait_for_q2_readers(q2.ring, 60s, stop);
  stopper.join();
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.left_in_q2, 1u);
}

}  // namespace
}  // namespace peaknet::inferd

#include <gtest/gtest.h>

#include <chrono>

#include "inferd/batcher.hpp"
#include "inferd_test_events.hpp"

using namespace peaknet;
using namespace peaknet::inferd;
using namespace peaknet::inferd::testing;
using namespace std::chrono_literals;

namespace {

struct BatcherTest : ::testing::Test {
  ShmRun run{"batcher"};
  shm::Ring q1 = shm::Ring::create(ring_options(run.q1(), 32, 8192));
  std::vector<shm::ReadSlot> markers;
  std::vector<RejectedEvent> rejected;

  void release(Batch& b) {
    for (auto& s : b.slots) q1.release(std::move(s));
  }
};

}  // namespace

TEST_F(BatcherTest, FullBatchComesAtOnceAndKeepsEventOrder) {
  for (uint64_t id = 0; id < 5; ++id) publish_event(q1, make_event(id, 1, 8, 8), nullptr);
  Batcher sut(q1);
  sut.set_batch_size(4);
  sut.set_max_wait(10'000ms);  // would block long if a full batch waited for the deadline
  const auto t0 = std::chrono::steady_clock::now();
  auto batch = sut.next(1000ms, markers, rejected);
  ASSERT_TRUE(batch);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ASSERT_EQ(batch->size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(batch->headers[i].event_id, i);
  EXPECT_EQ(batch->shape, (FrameShape{1, 8, 8, shm::DType::kF32}));
  release(*batch);
}

TEST_F(BatcherTest, PartialBatchAfterMaxWait) {
  for (uint64_t id = 0; id < 3; ++id) publish_event(q1, make_event(id, 1, 8, 8), nullptr);
  Batcher sut(q1);
  sut.set_batch_size(8);
  sut.set_max_wait(30ms);
  auto batch = sut.next(1000ms, markers, rejected);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->size(), 3u);
  EXPECT_GE(batch->queue_wait_ns, 25'000'000u);
  release(*batch);
  EXPECT_FALSE(sut.next(20ms, markers, rejected));  // nothing left: idle timeout
}

TEST_F(BatcherTest, MixedShapesAndDtypesAreSplitInOrder) {
  publish_event(q1, make_event(0, 1, 8, 8), nullptr);
  publish_event(q1, make_event(1, 1, 8, 8), nullptr);
  publish_event(q1, make_event(2, 2, 8, 8), nullptr);
  publish_event(q1, make_event(3, 2, 8, 8, shm::DType::kU16), nullptr);
  Batcher sut(q1);
  sut.set_batch_size(8);
  sut.set_max_wait(50ms);
  std::vector<std::pair<uint32_t, size_t>> seen;  // (channels, size)
  for (int i = 0; i < 3; ++i) {
    auto batch = sut.next(500ms, markers, rejected);
    ASSERT_TRUE(batch) << i;
    for (size_t k = 1; k < batch->size(); ++k) EXPECT_EQ(shape_of(batch->headers[k]), batch->shape);
    seen.emplace_back(batch->shape.channels, batch->size());
    release(*batch);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<uint32_t, size_t>>{{1, 2}, {2, 1}, {2, 1}}));
  EXPECT_EQ(sut.pending(), 0u);
}

TEST_F(BatcherTest, MarkersAndMalformedEventsNeverEnterABatch) {
  publish_event(q1, make_event(0, 1, 8, 8), nullptr);
  auto bad = make_event(1, 1, 8, 8);
  bad.payload_bytes = 100;  // does not match C*H*W*4
  publish_event(q1, bad, nullptr);
  auto marker = make_event(2, 1, 8, 8);
  marker.flags = shm::kEventFlagEndOfStream;
  publish_event(q1, marker, nullptr);
  auto too_big = make_event(3, 1, 64, 64);  // 16 KiB payload in an 8 KiB slot
  too_big.payload_bytes = 4096;             // claims to be small: shape check must still refuse it
  publish_event(q1, too_big, nullptr);
  Batcher sut(q1);
  sut.set_batch_size(8);
  sut.set_max_wait(30ms);
  std::vector<uint64_t> batched;
  for (int i = 0; i < 5 && (batched.size() + rejected.size() + markers.size()) < 4; ++i) {
    if (auto batch = sut.next(200ms, markers, rejected)) {
      for (auto& h : batch->headers) batched.push_back(h.event_id);
      release(*batch);
    }
  }
  EXPECT_EQ(batched, std::vector<uint64_t>{0});
  ASSERT_EQ(markers.size(), 1u);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_NE(rejected[0].reason.find("payload_bytes 100"), std::string::npos) << rejected[0].reason;
  for (auto& m : markers) q1.release(std::move(m));
  for (auto& r : rejected) q1.release(std::move(r.slot));
}

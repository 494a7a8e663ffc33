#include <unistd.h>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "q1_event_sink.hpp"
#include "raw_message.hpp"

namespace peaknet::ingestd {
namespace {

/// Unique shm names per test; unlinked even when the test fails.
struct ShmNames {
  std::string ring, block;
  explicit ShmNames(const std::string& test) {
    const std::string base = "pntest-" + std::to_string(::getpid()) + "-" + test;
    ring = base + "-q1";
    block = base + "-stats-ingestd";
    shm::Ring::unlink(ring);
    shm::CounterBlock::unlink(block);
  }
  ~ShmNames() {
    shm::Ring::unlink(ring);
    shm::CounterBlock::unlink(block);
  }
};

shm::RingOptions ring_options(const std::string& name, uint32_t slots, uint64_t slot_bytes,
                              shm::OverflowPolicy policy) {
  shm::RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = slot_bytes;
  o.policy = policy;
  o.block_timeout = std::chrono::milliseconds(50);
  return o;
}

ingest::EventMeta meta_2x3x4_u16() {
  ingest::EventMeta m;
  m.dtype = shm::DType::kU16;
  m.channels = 2;
  m.height = 3;
  m.width = 4;
  m.orig_height = 2;
  m.orig_width = 3;
  m.pad_top = 1;
  m.pad_left = 0;
  m.timestamp = 1234.5;
  m.photon_wavelength_a = 1.25;
  return m;
}

TEST(Q1EventSink, FillsEveryHeaderFieldAndThePayloadInPlace) {
  ShmNames names("sinkhdr");
  Q1Writer q1(ring_options(names.ring, 4, 8192, shm::OverflowPolicy::kBlock));
  IngestCounters counters(names.block, 0);
  EventIdAllocator ids;
  Q1EventSink sut(q1, ids, counters, [] { return true; });
  const uint64_t before = realtime_ns();
  sut.set_source(7, 42, before);

  const auto meta = meta_2x3x4_u16();
  std::byte* payload = sut.begin_event(meta, 48);
  ASSERT_NE(payload, nullptr);
  for (int i = 0; i < 48; ++i) payload[i] = std::byte(i);
  sut.commit_event();
  ASSERT_NE(sut.begin_event(meta, 48), nullptr);
  sut.commit_event();

  auto reader = shm::Ring::attach(names.ring);
  std::vector<shm::ReadSlot> slots;
  ASSERT_EQ(reader.claim(slots, 8, std::chrono::milliseconds(500)), 2u);
  shm::EventHeader h;
  std::memcpy(&h, slots[0].data(), sizeof h);
  EXPECT_EQ(h.event_id, (uint64_t(7) << 40) | 0);
  EXPECT_EQ(h.source_message_id, 42u);
  EXPECT_EQ(h.t_recv_ns, before);
  EXPECT_GE(h.t_q1_ns, before);
  EXPECT_EQ(h.timestamp, 1234.5);
  EXPECT_EQ(h.photon_wavelength_a, 1.25);
  EXPECT_EQ(h.payload_bytes, 48u);
  EXPECT_EQ(h.source_id, 7u);
  EXPECT_EQ(h.channels, 2u);
  EXPECT_EQ(h.height, 3u);
  EXPECT_EQ(h.width, 4u);
  EXPECT_EQ(h.orig_height, 2u);
  EXPECT_EQ(h.orig_width, 3u);
  EXPECT_EQ(h.pad_top, 1u);
  EXPECT_EQ(h.dtype, shm::DType::kU16);
  EXPECT_EQ(h.flags, 0u);
  for (int i = 0; i < 48; ++i) ASSERT_EQ(slots[0].data()[shm::kPayloadOffset + i], std::byte(i));
  shm::EventHeader second;
  std::memcpy(&second, slots[1].data(), sizeof second);
  EXPECT_EQ(second.event_id, (uint64_t(7) << 40) | 1);
  EXPECT_NE(h.ingest_epoch, 0u);
  EXPECT_EQ(h.ingest_epoch, ids.epoch());
  EXPECT_EQ(second.ingest_epoch, ids.epoch());
  EXPECT_EQ(counters.events_received.load(), 2u);
  EXPECT_EQ(counters.events_enqueued.load(), 2u);
  for (auto& s : slots) reader.release(std::move(s));
}

TEST(Q1EventSink, EventLargerThanASlotIsDroppedAndCounted) {
  ShmNames names("sinkbig");
  Q1Writer q1(ring_options(names.ring, 2, 8192, shm::OverflowPolicy::kBlock));
  IngestCounters counters(names.block, 0);
  EventIdAllocator ids;
  Q1EventSink sut(q1, ids, counters, [] { return true; });
  sut.set_source(0, 1, 0);
  EXPECT_EQ(sut.begin_event(meta_2x3x4_u16(), 8192), nullptr);
  EXPECT_EQ(counters.dropped(EventDropReason::kSlotTooSmall).load(), 1u);
  EXPECT_EQ(counters.events_received.load(), counters.events_enqueued.load() + counters.events_dropped_total());
  // What the drop needs is kept for the loud log line and the stats (never silent, issue 16).
  EXPECT_EQ(sut.events_in_message(), 1u);
  EXPECT_EQ(sut.events_too_big(), 1u);
  EXPECT_EQ(sut.slot_bytes_needed(), 4096u + 8192u);
  EXPECT_EQ(sut.too_big_shape(), "2x3x4, 2-byte pixels");
  EXPECT_EQ(counters.q1_slot_bytes_needed.load(), 4096u + 8192u);
  sut.set_source(0, 2, 0);  // the next message starts from zero
  EXPECT_EQ(sut.events_too_big(), 0u);
  EXPECT_EQ(counters.q1_slot_bytes_needed.load(), 4096u + 8192u) << "the gauge keeps the largest need";
}

TEST(Q1EventSink, DropNewestCountsQ1FullAndTheLedgerBalances) {
  ShmNames names("sinkfull");
  Q1Writer q1(ring_options(names.ring, 2, 8192, shm::OverflowPolicy::kDropNewest));
  IngestCounters counters(names.block, 0);
  EventIdAllocator ids;
  Q1EventSink sut(q1, ids, counters, [] { return false; });
  int published = 0;
  for (int i = 0; i < 5; ++i) {
    if (sut.begin_event(meta_2x3x4_u16(), 48)) {
      sut.commit_event();
      ++published;
    }
  }
  EXPECT_EQ(published, 2);
  EXPECT_EQ(counters.dropped(EventDropReason::kQ1Full).load(), 3u);
  EXPECT_EQ(counters.events_received.load(), 5u);
  EXPECT_EQ(counters.events_received.load(), counters.events_enqueued.load() + counters.events_dropped_total());
}

TEST(Q1EventSink, BlockingSinkGivesUpWhenAskedAndCountsAShutdownDrop) {
  ShmNames names("sinkblock");
  Q1Writer q1(ring_options(names.ring, 2, 8192, shm::OverflowPolicy::kBlock));
  IngestCounters counters(names.block, 0);
  EventIdAllocator ids;
  Q1EventSink sut(q1, ids, counters, [] { return true; });
  for (int i = 0; i < 2; ++i) {
    ASSERT_NE(sut.begin_event(meta_2x3x4_u16(), 48), nullptr);
    sut.commit_event();
  }
  EXPECT_EQ(sut.begin_event(meta_2x3x4_u16(), 48), nullptr);
  EXPECT_EQ(counters.dropped(EventDropReason::kShutdown).load(), 1u);
  EXPECT_GT(counters.q1_blocked_ns.load(), 0u);
}

TEST(Q1EventSink, AbortedEventIsNeverPublished) {
  ShmNames names("sinkabort");
  Q1Writer q1(ring_options(names.ring, 2, 8192, shm::OverflowPolicy::kBlock));
  IngestCounters counters(names.block, 0);
  EventIdAllocator ids;
  Q1EventSink sut(q1, ids, counters, [] { return true; });
  ASSERT_NE(sut.begin_event(meta_2x3x4_u16(), 48), nullptr);
  sut.abort_event();
  EXPECT_EQ(counters.dropped(EventDropReason::kDecodeFailed).load(), 1u);
  auto reader = shm::Ring::attach(names.ring);
  std::vector<shm::ReadSlot> slots;
  EXPECT_EQ(reader.claim(slots, 8, std::chrono::milliseconds(100)), 0u);
}

TEST(Q1Writer, LivePolicyChangeTakesEffectAndFinishReachesConsumers) {
  ShmNames names("policy");
  Q1Writer sut(ring_options(names.ring, 2, 8192, shm::OverflowPolicy::kBlock));
  IngestCounters counters(names.block, 0);
  EventIdAllocator ids;
  Q1EventSink sink(sut, ids, counters, [] { return true; });
  for (int i = 0; i < 2; ++i) {
    ASSERT_NE(sink.begin_event(meta_2x3x4_u16(), 48), nullptr);
    sink.commit_event();
  }
  sut.set_policy(shm::OverflowPolicy::kDropNewest);
  EXPECT_EQ(sut.policy(), shm::OverflowPolicy::kDropNewest);
  EXPECT_EQ(sink.begin_event(meta_2x3x4_u16(), 48), nullptr);
  EXPECT_EQ(counters.dropped(EventDropReason::kQ1Full).load(), 1u);

  auto reader = shm::Ring::attach(names.ring);
  sut.finish();
  std::vector<shm::ReadSlot> slots;
  EXPECT_EQ(reader.claim(slots, 8, std::chrono::milliseconds(200)), 2u);
  for (auto& s : slots) reader.release(std::move(s));
  EXPECT_TRUE(reader.finished());
}

// Every ingestd process names its events under its own epoch: two allocators (a restart, a reboot,
// another node) hand out the same ids, never the same (epoch, id).
TEST(EventIdAllocator, EachAllocatorDrawsItsOwnNonzeroEpoch) {
  EventIdAllocator a, b;
  EXPECT_NE(a.epoch(), 0u);
  EXPECT_NE(b.epoch(), 0u);
  EXPECT_NE(a.epoch(), b.epoch());
  EXPECT_EQ(a.next(3), b.next(3));
  EXPECT_EQ(EventIdAllocator(0).epoch(), 1u);  // 0 means "no epoch": never issued
}

}  // namespace
}  // namespace peaknet::ingestd

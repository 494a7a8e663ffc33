// Pins the shared-memory layouts (iceoryx test_mepoo_chunk_header style): when one of these fails,
// the layout changed and its version constant must be bumped.
#include <gtest/gtest.h>

#include <cstddef>

#include "shm/event_layout.hpp"
#include "shm/internal/counter_layout.hpp"
#include "shm/internal/ring_layout.hpp"

namespace peaknet::shm {
namespace {

using namespace layout;

TEST(ShmLayout, RingHeaderOffsetsArePinned) {
  EXPECT_EQ(kRingLayoutVersion, 1u);
  EXPECT_EQ(sizeof(RingHeader), 1280u);
  EXPECT_EQ(offsetof(RingHeader, magic), 0u);
  EXPECT_EQ(offsetof(RingHeader, layout_version), 8u);
  EXPECT_EQ(offsetof(RingHeader, header_bytes), 12u);
  EXPECT_EQ(offsetof(RingHeader, creator_pid), 16u);
  EXPECT_EQ(offsetof(RingHeader, payload_layout), 20u);
  EXPECT_EQ(offsetof(RingHeader, creator_start_time), 24u);
  EXPECT_EQ(offsetof(RingHeader, created_realtime_ns), 32u);
  EXPECT_EQ(offsetof(RingHeader, total_bytes), 40u);
  EXPECT_EQ(offsetof(RingHeader, slot_bytes), 48u);
  EXPECT_EQ(offsetof(RingHeader, slot_count), 56u);
  EXPECT_EQ(offsetof(RingHeader, max_users), 60u);
  EXPECT_EQ(offsetof(RingHeader, users_offset), 64u);
  EXPECT_EQ(offsetof(RingHeader, states_offset), 72u);
  EXPECT_EQ(offsetof(RingHeader, tickets_offset), 80u);
  EXPECT_EQ(offsetof(RingHeader, data_offset), 88u);
  EXPECT_EQ(offsetof(RingHeader, creator_policy), 96u);
  EXPECT_EQ(offsetof(RingHeader, flags), 100u);
  EXPECT_EQ(offsetof(RingHeader, name), 104u);
  EXPECT_EQ(offsetof(RingHeader, next_ticket), 256u);
  EXPECT_EQ(offsetof(RingHeader, ready_seq), 320u);
  EXPECT_EQ(offsetof(RingHeader, consumer_waiters), 324u);
  EXPECT_EQ(offsetof(RingHeader, free_seq), 384u);
  EXPECT_EQ(offsetof(RingHeader, producer_waiters), 388u);
  EXPECT_EQ(offsetof(RingHeader, producer_seen), 448u);
  EXPECT_EQ(offsetof(RingHeader, last_reclaim_ns), 456u);
  EXPECT_EQ(offsetof(RingHeader, published), 512u);
  EXPECT_EQ(offsetof(RingHeader, consumed), 576u);
  EXPECT_EQ(offsetof(RingHeader, released), 640u);
  EXPECT_EQ(offsetof(RingHeader, occupancy), 704u);
  EXPECT_EQ(offsetof(RingHeader, occupancy_hwm), 768u);
  EXPECT_EQ(offsetof(RingHeader, requeued), 832u);
  EXPECT_EQ(offsetof(RingHeader, abandoned), 896u);
  EXPECT_EQ(offsetof(RingHeader, block_timeouts), 960u);
  EXPECT_EQ(offsetof(RingHeader, dropped), 1024u);
  EXPECT_EQ(alignof(RingHeader), 64u);
}

TEST(ShmLayout, UserEntryAndSlotWordArePinned) {
  EXPECT_EQ(sizeof(UserEntry), 64u);
  EXPECT_EQ(offsetof(UserEntry, identity), 0u);
  EXPECT_EQ(offsetof(UserEntry, flags), 8u);
  EXPECT_EQ(offsetof(UserEntry, start_time), 16u);
  EXPECT_EQ(offsetof(UserEntry, heartbeat_ns), 24u);
  EXPECT_EQ(offsetof(UserEntry, attached_ns), 32u);
  EXPECT_EQ(kMaxUsers, 128u);
  const uint64_t w = SlotWord::make(SlotState::kClaimed, 7, 0x123456789ull);
  EXPECT_EQ(w, (0x123456789ull << 16) | (7u << 8) | 3u);
  EXPECT_EQ(SlotWord::state(w), SlotState::kClaimed);
  EXPECT_EQ(SlotWord::owner(w), 7u);
  EXPECT_EQ(SlotWord::generation(w), 0x123456789ull);
}

TEST(ShmLayout, GeometryPutsSlotsOnPageBoundaries) {
  const RingGeometry g = RingGeometry::of(3, 8192);
  EXPECT_EQ(g.users_offset, 1280u);
  EXPECT_EQ(g.states_offset, 1280u + 128u * 64u);
  EXPECT_EQ(g.tickets_offset, 1280u + 128u * 64u + 64u);
  EXPECT_EQ(g.data_offset % kPageBytes, 0u);
  EXPECT_EQ(g.data_offset, 12288u);
  EXPECT_EQ(g.total_bytes, 12288u + 3u * 8192u);
}

TEST(ShmLayout, CounterBlockLayoutIsPinned) {
  EXPECT_EQ(kCounterLayoutVersion, 1u);
  EXPECT_EQ(sizeof(CounterHeader), 256u);
  EXPECT_EQ(offsetof(CounterHeader, magic), 0u);
  EXPECT_EQ(offsetof(CounterHeader, layout_version), 8u);
  EXPECT_EQ(offsetof(CounterHeader, owner_pid), 16u);
  EXPECT_EQ(offsetof(CounterHeader, capacity), 20u);
  EXPECT_EQ(offsetof(CounterHeader, total_bytes), 48u);
  EXPECT_EQ(offsetof(CounterHeader, registered), 56u);
  EXPECT_EQ(offsetof(CounterEntry, state), 0u);
  EXPECT_EQ(offsetof(CounterEntry, kind), 4u);
  EXPECT_EQ(offsetof(CounterEntry, name), 8u);
  EXPECT_EQ(offsetof(CounterEntry, value), 64u);
  EXPECT_EQ(offsetof(CounterEntry, histogram), 128u);
  EXPECT_EQ(sizeof(Histogram), (3u + 65u) * 8u);
  EXPECT_EQ(sizeof(CounterEntry), 704u);
}

// event_layout.hpp: the Q1/Q2 slot contents shared by ingestd, inferd and writerd.
TEST(ShmLayout, EventHeaderOffsetsArePinned) {
  EXPECT_EQ(kEventLayoutVersion, 4u);
  EXPECT_EQ(sizeof(EventHeader), 256u);
  EXPECT_EQ(offsetof(EventHeader, event_id), 0u);
  EXPECT_EQ(offsetof(EventHeader, source_message_id), 8u);
  EXPECT_EQ(offsetof(EventHeader, t_recv_ns), 16u);
  EXPECT_EQ(offsetof(EventHeader, t_q1_ns), 24u);
  EXPECT_EQ(offsetof(EventHeader, timestamp), 32u);
  EXPECT_EQ(offsetof(EventHeader, photon_wavelength_a), 40u);
  EXPECT_EQ(offsetof(EventHeader, payload_bytes), 48u);
  EXPECT_EQ(offsetof(EventHeader, source_id), 56u);
  EXPECT_EQ(offsetof(EventHeader, channels), 60u);
  EXPECT_EQ(offsetof(EventHeader, height), 64u);
  EXPECT_EQ(offsetof(EventHeader, width), 68u);
  EXPECT_EQ(offsetof(EventHeader, orig_height), 72u);
  EXPECT_EQ(offsetof(EventHeader, orig_width), 76u);
  EXPECT_EQ(offsetof(EventHeader, pad_top), 80u);
  EXPECT_EQ(offsetof(EventHeader, pad_left), 84u);
  EXPECT_EQ(offsetof(EventHeader, dtype), 88u);
  EXPECT_EQ(offsetof(EventHeader, flags), 92u);
  EXPECT_EQ(offsetof(EventHeader, timestamp_raw), 96u);
  EXPECT_EQ(offsetof(EventHeader, ingest_epoch), 104u);
  EXPECT_EQ(offsetof(EventHeader, reserved), 112u);
  EXPECT_EQ(kPayloadOffset, 4096u);
}

TEST(ShmLayout, ResultHeaderAndPeakRecordOffsetsArePinned) {
  EXPECT_EQ(sizeof(ResultHeader), 512u);
  EXPECT_EQ(offsetof(ResultHeader, event_id), 0u);
  EXPECT_EQ(offsetof(ResultHeader, source_message_id), 8u);
  EXPECT_EQ(offsetof(ResultHeader, t_recv_ns), 16u);
  EXPECT_EQ(offsetof(ResultHeader, t_q1_ns), 24u);
  EXPECT_EQ(offsetof(ResultHeader, t_q2_ns), 32u);
  EXPECT_EQ(offsetof(ResultHeader, timestamp), 40u);
  EXPECT_EQ(offsetof(ResultHeader, photon_wavelength_a), 48u);
  EXPECT_EQ(offsetof(ResultHeader, channels), 56u);
  EXPECT_EQ(offsetof(ResultHeader, height), 60u);
  EXPECT_EQ(offsetof(ResultHeader, width), 64u);
  EXPECT_EQ(offsetof(ResultHeader, orig_height), 68u);
  EXPECT_EQ(offsetof(ResultHeader, orig_width), 72u);
  EXPECT_EQ(offsetof(ResultHeader, pad_top), 76u);
  EXPECT_EQ(offsetof(ResultHeader, pad_left), 80u);
  EXPECT_EQ(offsetof(ResultHeader, n_peaks), 84u);
  EXPECT_EQ(offsetof(ResultHeader, n_found), 88u);
  EXPECT_EQ(offsetof(ResultHeader, producer_id), 92u);
  EXPECT_EQ(offsetof(ResultHeader, flags), 96u);
  EXPECT_EQ(offsetof(ResultHeader, frame_bytes), 104u);
  EXPECT_EQ(offsetof(ResultHeader, frame_offset), 112u);
  EXPECT_EQ(offsetof(ResultHeader, frame_dtype), 120u);
  EXPECT_EQ(offsetof(ResultHeader, ipc_mem_handle), 128u);
  EXPECT_EQ(offsetof(ResultHeader, ipc_event_handle), 192u);
  EXPECT_EQ(offsetof(ResultHeader, ipc_offset), 256u);
  EXPECT_EQ(offsetof(ResultHeader, ipc_bytes), 264u);
  EXPECT_EQ(offsetof(ResultHeader, timestamp_raw), 272u);
  EXPECT_EQ(offsetof(ResultHeader, ingest_epoch), 280u);
  EXPECT_EQ(offsetof(ResultHeader, mask_place), 288u);
  EXPECT_EQ(offsetof(ResultHeader, mask_channels), 292u);
  EXPECT_EQ(offsetof(ResultHeader, mask_height), 296u);
  EXPECT_EQ(offsetof(ResultHeader, mask_width), 300u);
  EXPECT_EQ(offsetof(ResultHeader, mask_bytes), 304u);
  EXPECT_EQ(offsetof(ResultHeader, mask_offset), 312u);
  EXPECT_EQ(offsetof(ResultHeader, producer_identity), 320u);
  EXPECT_EQ(offsetof(ResultHeader, mask_device_pci), 328u);
  EXPECT_EQ(offsetof(ResultHeader, reserved), 344u);
  EXPECT_EQ(sizeof(MaskPlace), 1u);
  EXPECT_EQ(kPeaksOffset, 512u);
  EXPECT_EQ(sizeof(PeakRecord), 40u);
  EXPECT_EQ(offsetof(PeakRecord, y), 0u);
  EXPECT_EQ(offsetof(PeakRecord, x), 8u);
  EXPECT_EQ(offsetof(PeakRecord, intensity_sum), 16u);
  EXPECT_EQ(offsetof(PeakRecord, intensity_max), 24u);
  EXPECT_EQ(offsetof(PeakRecord, panel), 28u);
  EXPECT_EQ(offsetof(PeakRecord, npix), 32u);
  EXPECT_EQ(static_cast<int>(DType::kU8), 1);
  EXPECT_EQ(static_cast<int>(DType::kF64), 10);
  EXPECT_EQ(dtype_size(DType::kU16), 2u);
  EXPECT_EQ(dtype_size(DType::kF32), 4u);
}

}  // namespace
}  // namespace peaknet::shm

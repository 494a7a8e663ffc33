#pragma once
// Batch: events claimed from Q1 that go through the model together. One batch has one frame shape and
// dtype (the model sees one tensor); the batcher splits mixed shapes. The Q1 slots stay claimed (leased)
// until the backend has copied their pixels (or, with write_frames, until the results are published).
#include <chrono>
#include <cstdint>
#include <vector>

#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {

/// Shape and dtype of every frame in a batch (C panels x H x W).
struct FrameShape {
  uint32_t channels = 0;
  uint32_t height = 0;
  uint32_t width = 0;
  shm::DType dtype = shm::DType::kF32;

  uint64_t payload_bytes() const { return uint64_t(channels) * height * width * shm::dtype_size(dtype); }
  bool operator==(const FrameShape&) const = default;
};

FrameShape shape_of(const shm::EventHeader& header);

/// Events of one shape. `headers[i]` is a copy of slot i's EventHeader (the slot may be released
/// before the results are published).
struct Batch {
  uint64_t id = 0;  ///< per-process batch counter
  FrameShape shape;
  std::vector<shm::ReadSlot> slots;  ///< claimed Q1 slots, released by whoever consumes the pixels
  std::vector<shm::EventHeader> headers;
  std::chrono::steady_clock::time_point first_claim{};  ///< when its oldest event was claimed
  uint64_t queue_wait_ns = 0;                           ///< first claim -> handed to the backend

  size_t size() const { return headers.size(); }
};

}  // namespace peaknet::inferd

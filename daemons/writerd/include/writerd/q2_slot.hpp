#pragma once
// Reading one Q2 slot safely: the ResultHeader at offset 0, PeakRecord[n_peaks] at kPeaksOffset, the
// optional frame copy and the optional mask (host copy in the slot, or where on the device), each
// checked against the slot size, because the slot was written by another process (a bug there must
// become a counted drop here, never a crash).
#include <cstddef>
#include <cstdint>
#include <string>

#include "shm/event_layout.hpp"

namespace peaknet::writerd {

struct Q2Event {
  shm::ResultHeader header{};              ///< copied out of the slot (aligned, stable)
  const shm::PeakRecord* peaks = nullptr;  ///< header.n_peaks records inside the slot
  const uint8_t* frame = nullptr;          ///< header.frame_bytes inside the slot, or nullptr
  uint64_t frame_bytes = 0;
  const uint8_t* host_mask = nullptr;  ///< header.mask_bytes inside the slot (MaskPlace::kHost), or nullptr
};

/// Fills `out` from a slot of `size` bytes; returns "" or why the slot is malformed.
std::string parse_q2_slot(const std::byte* slot, size_t size, Q2Event& out);

}  // namespace peaknet::writerd

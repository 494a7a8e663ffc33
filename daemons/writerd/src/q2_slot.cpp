#include "writerd/q2_slot.hpp"

#include <cstring>

namespace peaknet::writerd {

std::string parse_q2_slot(const std::byte* slot, size_t size, Q2Event& out) {
  if (size < shm::kPeaksOffset) return "slot of " + std::to_string(size) + " bytes is smaller than a header";
  std::memcpy(&out.header, slot, sizeof(shm::ResultHeader));
  const shm::ResultHeader& h = out.header;
  const uint64_t peak_end = shm::kPeaksOffset + uint64_t(h.n_peaks) * sizeof(shm::PeakRecord);
  if (peak_end > size) {
    return "n_peaks " + std::to_string(h.n_peaks) + " does not fit a slot of " + std::to_string(size) +
           " bytes";
  }
  if (h.n_found < h.n_peaks) {
    return "n_found " + std::to_string(h.n_found) + " < n_peaks " + std::to_string(h.n_peaks);
  }
  if (h.channels == 0 || h.orig_height == 0 || h.orig_width == 0) return "empty frame shape";
  out.peaks = reinterpret_cast<const shm::PeakRecord*>(slot + shm::kPeaksOffset);
  out.frame = nullptr;
  out.frame_bytes = 0;
  if (h.frame_bytes > 0) {
    if (h.frame_offset < peak_end || h.frame_offset > size || h.frame_bytes > size - h.frame_offset) {
      return "frame [" + std::to_string(h.frame_offset) + ", +" + std::to_string(h.frame_bytes) +
             ") is outside the slot or overlaps the peaks";
    }
    out.frame = reinterpret_cast<const uint8_t*>(slot) + h.frame_offset;
    out.frame_bytes = h.frame_bytes;
  }
  return {};
}

}  // namespace peaknet::writerd

#include "writerd/q2_slot.hpp"

#include <cstring>

namespace peaknet::writerd {

std::string parse_q2_slot(const std::byte* slot, size_t size, Q2Event& out) {
  if (size < shm::kPeaksOffset) return "slot of " + std::to_string(size) + " bytes is smaller than a header";
  std::memcpy(&out.header, slot, sizeof(shm::ResultHeader));
  const shm::ResultHeader& h = out.header;
  const uint64_t peak_end = shm::kPeaksOffset + uint64_t(h.n_peaks) * sizeof(shm::PeakRecord);
  if (peak_end > size) {
    return "n_peaks " + std::to_string(h.n_peaks) + " does not fit a slot of " + std::to_string(size) + " bytes";
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
  out.host_mask = nullptr;
  if (h.mask_place == shm::MaskPlace::kNone) return {};
  if (h.mask_place != shm::MaskPlace::kHost && h.mask_place != shm::MaskPlace::kDevice) {
    return "mask_place " + std::to_string(int(h.mask_place)) + " is unknown";
  }
  if (h.mask_channels != h.channels || h.mask_height != h.height || h.mask_width != h.width ||
      h.mask_bytes != uint64_t(h.channels) * h.height * h.width) {
    return "mask " + std::to_string(h.mask_channels) + "x" + std::to_string(h.mask_height) + "x" +
           std::to_string(h.mask_width) + " (" + std::to_string(h.mask_bytes) +
           " bytes) is not one byte per pixel of the " + std::to_string(h.channels) + "x" + std::to_string(h.height) +
           "x" + std::to_string(h.width) + " frame";
  }
  if (h.mask_place == shm::MaskPlace::kHost) {
    const uint64_t after = h.frame_bytes > 0 ? h.frame_offset + h.frame_bytes : peak_end;
    if (h.mask_offset < after || h.mask_offset > size || h.mask_bytes > size - h.mask_offset) {
      return "mask [" + std::to_string(h.mask_offset) + ", +" + std::to_string(h.mask_bytes) +
             ") is outside the slot or overlaps the peaks or frame";
    }
    out.host_mask = reinterpret_cast<const uint8_t*>(slot) + h.mask_offset;
  }
  return {};
}

}  // namespace peaknet::writerd

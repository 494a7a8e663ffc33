#include "common/config/slot_sizes.hpp"

#include <fmt/format.h>

#include "common/config/config_error.hpp"
#include "common/config/mask_path.hpp"
#include "common/config/suite_config.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::config {
namespace {

constexpr uint64_t kPage = 4096;
uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

uint64_t pixel_bytes(const std::vector<int64_t>& shape, const std::string& dtype) {
  uint64_t n = dtype_bytes(dtype);
  for (int64_t d : shape) n *= uint64_t(d);
  return n;
}

std::string describe(const std::vector<int64_t>& shape, const std::string& dtype) {
  std::string dims;
  for (int64_t d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  return "[" + dims + "] " + dtype;
}

}  // namespace

uint64_t dtype_bytes(const std::string& dtype) {
  if (dtype == "uint8" || dtype == "int8") return 1;
  if (dtype == "uint16" || dtype == "int16") return 2;
  if (dtype == "uint32" || dtype == "int32" || dtype == "float32") return 4;
  if (dtype == "uint64" || dtype == "int64" || dtype == "float64") return 8;
  return 0;
}

int64_t payload_bytes_of_q1_slot(int64_t q1_slot_bytes) {
  return int64_t(round_up(uint64_t(q1_slot_bytes), kPage)) - int64_t(shm::kPayloadOffset);
}

uint64_t q1_slot_bytes_for(const std::vector<int64_t>& shape, const std::string& dtype) {
  return round_up(shm::kPayloadOffset + pixel_bytes(shape, dtype), kPage);
}

uint64_t q2_slot_bytes_for(uint64_t max_num_peak, uint64_t frame_bytes, uint64_t mask_bytes) {
  // inferd's ResultWriter: peaks at kPeaksOffset, the frame after them, the mask after that, each at a
  // 64-byte boundary.
  uint64_t end = shm::kPeaksOffset + max_num_peak * sizeof(shm::PeakRecord);
  if (frame_bytes > 0) end = round_up(end, 64) + frame_bytes;
  if (mask_bytes > 0) end = round_up(end, 64) + mask_bytes;
  return round_up(end, kPage);
}

void resolve_slot_sizes(SuiteConfig& c) {
  const bool declared = !c.q1.event_shape.empty();
  const uint64_t q1_needed = declared ? q1_slot_bytes_for(c.q1.event_shape, c.q1.event_dtype) : 0;
  if (c.q1.slot_bytes == 0) {
    if (!declared) {
      throw ConfigError("config.q1.slot_bytes",
                        "0 (auto) needs config.q1.event_shape ([C, H, W] of the largest event)");
    }
    c.q1.slot_bytes = int64_t(q1_needed);
  } else if (declared && uint64_t(c.q1.slot_bytes) < q1_needed) {
    throw ConfigError("config.q1.slot_bytes",
                      fmt::format("{} bytes cannot hold one event of config.q1.event_shape/event_dtype {} ({} bytes of "
                                  "pixels + {} header): needs >= {}; raise it or set 0 (auto)",
                                  c.q1.slot_bytes, describe(c.q1.event_shape, c.q1.event_dtype),
                                  pixel_bytes(c.q1.event_shape, c.q1.event_dtype), shm::kPayloadOffset, q1_needed));
  }
  if (c.ingestd.source == IngestSource::kSynthetic) {
    const auto& s = c.ingestd.synthetic;
    const uint64_t needed = q1_slot_bytes_for(s.shape, s.dtype);
    if (uint64_t(c.q1.slot_bytes) < needed) {
      throw ConfigError("config.q1.slot_bytes",
                        fmt::format("{} bytes cannot hold one event of config.ingestd.synthetic.shape/dtype {}: needs "
                                    ">= {}",
                                    c.q1.slot_bytes, describe(s.shape, s.dtype), needed));
    }
  }
  // Q2: the frame and host mask copies need the event's size; without them only the peaks (truncation is
  // counted).
  const uint64_t frame_bytes = c.inferd.write_frames && declared ? pixel_bytes(c.q1.event_shape, c.q1.event_dtype) : 0;
  const uint64_t mask_bytes = masks_by_host_copy(c) && declared
                                  ? pixel_bytes(c.q1.event_shape, c.q1.event_dtype) / dtype_bytes(c.q1.event_dtype)
                                  : 0;
  const uint64_t q2_needed = q2_slot_bytes_for(uint64_t(c.peaks.max_num_peak), frame_bytes, mask_bytes);
  if (c.q2.slot_bytes == 0) {
    c.q2.slot_bytes = int64_t(q2_needed);
  } else if ((frame_bytes > 0 || mask_bytes > 0) && uint64_t(c.q2.slot_bytes) < q2_needed) {
    const std::string what = frame_bytes > 0 && mask_bytes > 0
                                 ? "config.inferd.write_frames and config.writerd.write_masks"
                             : frame_bytes > 0 ? "config.inferd.write_frames"
                                               : "config.writerd.write_masks";
    throw ConfigError("config.q2.slot_bytes",
                      fmt::format("{} bytes cannot hold a result with {} of config.q1.event_shape/event_dtype {} "
                                  "(frame {} bytes, host mask {} bytes) and config.peaks.max_num_peak {}: needs >= {}; "
                                  "raise it or set 0 (auto)",
                                  c.q2.slot_bytes, what, describe(c.q1.event_shape, c.q1.event_dtype), frame_bytes,
                                  mask_bytes, c.peaks.max_num_peak, q2_needed));
  }
}

}  // namespace peaknet::config

#include "common/config/frame_path.hpp"

#include <algorithm>
#include <string>

#include "common/config/config_error.hpp"
#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

// Slot layouts (libshm/include/shm/event_layout.hpp; common does not link libshm).
constexpr int64_t kQ1PayloadOffset = 4096;
constexpr int64_t kQ2PeaksOffset = 512;
constexpr int64_t kPeakRecordBytes = 40;
constexpr int64_t kPage = 4096;

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

bool given(const nlohmann::json& root, const char* section, const char* key) {
  return root.is_object() && root.contains(section) && root[section].is_object() &&
         root[section].contains(key);
}

}  // namespace

int64_t q2_slot_bytes_for_frames(int64_t q1_slot_bytes, int64_t max_num_peak) {
  const int64_t frame = round_up(q1_slot_bytes, kPage) - kQ1PayloadOffset;
  return round_up(round_up(kQ2PeaksOffset + max_num_peak * kPeakRecordBytes, 64) + frame, kPage);
}

void apply_frame_path(const nlohmann::json& root, SuiteConfig& c) {
  const bool frames = c.writerd.write_frames;
  if (given(root, "inferd", "write_frames") && c.inferd.write_frames != frames) {
    throw ConfigError("config.inferd.write_frames",
                      std::string("is ") + (c.inferd.write_frames ? "true" : "false") +
                          " but config.writerd.write_frames is " + (frames ? "true" : "false") +
                          ": inferd's frame copies follow writerd.write_frames; remove inferd.write_frames");
  }
  c.inferd.write_frames = frames;
  c.inferd.frames_of_nonhits = frames && c.writerd.keep_all_events;
  if (!frames) return;
  const int64_t needed = q2_slot_bytes_for_frames(c.q1.slot_bytes, c.peaks.max_num_peak);
  if (!given(root, "q2", "slot_bytes")) {
    c.q2.slot_bytes = std::max(c.q2.slot_bytes, needed);
  } else if (c.q2.slot_bytes < needed) {
    throw ConfigError("config.q2.slot_bytes",
                      std::to_string(c.q2.slot_bytes) + " cannot hold a hit's frame: writerd.write_frames is on " +
                          "and a Q1 slot of " + std::to_string(c.q1.slot_bytes) + " bytes carries frames up to " +
                          std::to_string(round_up(c.q1.slot_bytes, kPage) - kQ1PayloadOffset) + " bytes, so with " +
                          std::to_string(c.peaks.max_num_peak) + " peaks a Q2 slot needs " + std::to_string(needed) +
                          "; raise q2.slot_bytes (or leave it out: it is derived), lower q1.slot_bytes, or set " +
                          "writerd.write_frames false");
  }
}

}  // namespace peaknet::config

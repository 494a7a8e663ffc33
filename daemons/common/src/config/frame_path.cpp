#include "common/config/frame_path.hpp"

#include <algorithm>
#include <string>

#include "common/config/config_error.hpp"
#include "common/config/mask_path.hpp"
#include "common/config/slot_sizes.hpp"
#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

bool given(const nlohmann::json& root, const char* section, const char* key) {
  return root.is_object() && root.contains(section) && root[section].is_object() && root[section].contains(key);
}

}  // namespace

int64_t q2_slot_bytes_for_frames(int64_t q1_slot_bytes, int64_t max_num_peak) {
  return int64_t(q2_slot_bytes_for(uint64_t(max_num_peak), uint64_t(payload_bytes_of_q1_slot(q1_slot_bytes))));
}

void derive_frame_settings(const nlohmann::json& root, SuiteConfig& c) {
  const bool frames = c.writerd.write_frames;
  if (given(root, "inferd", "write_frames") && c.inferd.write_frames != frames) {
    throw ConfigError("config.inferd.write_frames",
                      std::string("is ") + (c.inferd.write_frames ? "true" : "false") +
                          " but config.writerd.write_frames is " + (frames ? "true" : "false") +
                          ": inferd's frame copies follow writerd.write_frames; remove inferd.write_frames");
  }
  c.inferd.write_frames = frames;
  c.inferd.frames_of_nonhits = frames && c.writerd.keep_all_events;
}

void check_q2_frame_room(bool q2_auto, SuiteConfig& c) {
  const bool masks = masks_by_host_copy(c);
  if (!c.writerd.write_frames && !masks) return;
  // A host mask has one byte per pixel: the most pixels a Q1 slot carries are those of the declared
  // dtype (1 byte when none is declared).
  const int64_t mask_bytes =
      masks ? mask_bytes_of_q1_slot(c.q1.slot_bytes, c.q1.event_shape.empty() ? 1 : dtype_bytes(c.q1.event_dtype)) : 0;
  const int64_t needed = int64_t(q2_slot_bytes_for(
      uint64_t(c.peaks.max_num_peak), c.writerd.write_frames ? uint64_t(payload_bytes_of_q1_slot(c.q1.slot_bytes)) : 0,
      uint64_t(mask_bytes)));
  if (q2_auto) {
    c.q2.slot_bytes = std::max(c.q2.slot_bytes, needed);
  } else if (c.q2.slot_bytes < needed && !c.writerd.write_frames) {
    throw ConfigError("config.q2.slot_bytes",
                      std::to_string(c.q2.slot_bytes) + " cannot hold a hit's mask: config.writerd.write_masks is on " +
                          "and inferd.device is " + std::string(to_string(c.inferd.device)) +
                          " (masks travel as host copies in Q2); a Q1 " + "slot of " + std::to_string(c.q1.slot_bytes) +
                          " bytes carries events of up to " + std::to_string(mask_bytes) + " pixels, so with " +
                          std::to_string(c.peaks.max_num_peak) + " peaks a Q2 slot needs " + std::to_string(needed) +
                          "; raise q2.slot_bytes (or set 0 / " +
                          "leave it out: it is derived), set inferd.device cuda on a GPU node, or set " +
                          "writerd.write_masks false");
  } else if (c.q2.slot_bytes < needed) {
    throw ConfigError(
        "config.q2.slot_bytes",
        std::to_string(c.q2.slot_bytes) + " cannot hold a hit's frame: writerd.write_frames is on " +
            "and a Q1 slot of " + std::to_string(c.q1.slot_bytes) + " bytes carries frames up to " +
            std::to_string(payload_bytes_of_q1_slot(c.q1.slot_bytes)) + " bytes" +
            (masks
                 ? " (and config.writerd.write_masks adds host masks of up to " + std::to_string(mask_bytes) + " bytes)"
                 : std::string()) +
            ", so with " + std::to_string(c.peaks.max_num_peak) + " peaks a Q2 slot needs " + std::to_string(needed) +
            "; raise q2.slot_bytes (or set 0 / leave it out: it is derived), lower q1.slot_bytes, " +
            "or set writerd.write_frames false");
  }
}

}  // namespace peaknet::config

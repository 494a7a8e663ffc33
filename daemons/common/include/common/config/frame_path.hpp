#pragma once
// Frames of hits reach writerd as copies in Q2 (docs/decisions/0004-frame-path.md). One setting,
// writerd.write_frames (default on), decides it; the other stages follow from it:
//  - inferd.write_frames is derived (a conflicting explicit value is a ConfigError naming both keys);
//  - inferd copies only the frames writerd will write: hits (peaks.min_num_peak), or every event with
//    writerd.keep_all_events;
//  - q2.slot_bytes must hold the peaks and the largest frame a Q1 slot can carry: derived when not
//    given, a ConfigError naming both rings when given too small.
#include <cstdint>

#include <nlohmann/json.hpp>

namespace peaknet::config {

struct SuiteConfig;

/// Bytes a Q2 slot needs for max_num_peak peaks plus a frame of `q1_slot_bytes` - the Q1 header,
/// rounded up to a page.
int64_t q2_slot_bytes_for_frames(int64_t q1_slot_bytes, int64_t max_num_peak);

/// inferd.write_frames and which frames inferd copies, from writerd's settings (before slot sizes are
/// derived); `root` tells which keys were given explicitly.
void derive_frame_settings(const nlohmann::json& root, SuiteConfig& config);
/// After slot sizes are resolved: Q2 room for the largest frame a Q1 slot carries (and for its host mask,
/// mask_path.hpp). `q2_auto`: the
/// config left q2.slot_bytes out or set 0, so it is raised to fit; an explicit smaller value is a
/// ConfigError naming both rings.
void check_q2_frame_room(bool q2_auto, SuiteConfig& config);

}  // namespace peaknet::config

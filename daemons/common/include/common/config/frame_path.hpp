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

/// Applies the rules above to a parsed config; `root` tells which keys were given explicitly.
void apply_frame_path(const nlohmann::json& root, SuiteConfig& config);

}  // namespace peaknet::config

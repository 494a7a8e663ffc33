#pragma once
// PeakNet masks of hits reach writerd (writerd.write_masks, default off; docs/writerd.md "Masks").
// One setting decides; the other stages follow from it, as for frames (frame_path.hpp):
//  - inferd.write_masks is derived (a conflicting explicit value is a ConfigError naming both keys);
//  - inferd puts the mask of each hit (never a non-hit) into the hit's Q2 record: on the GPU an entry of
//    its device pool passed as CUDA IPC handle, on the CPU a host copy in the slot;
//  - q2.slot_bytes holds that host copy unless inferd.device is cuda (auto may resolve to cpu): derived
//    when not given, a ConfigError naming the keys and bytes when given too small.
#include <cstdint>

#include <nlohmann/json.hpp>

namespace peaknet::config {

struct SuiteConfig;

/// True when masks travel as host copies in Q2 slots: write_masks and inferd.device is not "cuda".
bool masks_by_host_copy(const SuiteConfig& config);
/// Largest mask (uint8 per pixel) of an event a Q1 slot of `q1_slot_bytes` carries, for events of
/// `dtype_bytes` bytes per pixel (1 when unknown: the most pixels).
int64_t mask_bytes_of_q1_slot(int64_t q1_slot_bytes, uint64_t dtype_bytes);

/// inferd.write_masks from writerd.write_masks (before slot sizes are derived); `root` tells which keys
/// were given explicitly.
void derive_mask_settings(const nlohmann::json& root, SuiteConfig& config);

}  // namespace peaknet::config

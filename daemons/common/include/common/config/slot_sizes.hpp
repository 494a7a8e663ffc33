#pragma once
// Slot sizes that fit the data. A Q1 slot holds one event (EventHeader page + C x H x W pixels); a Q2
// slot holds a ResultHeader, max_num_peak PeakRecords, with inferd.write_frames the frame and with host
// masks (mask_path.hpp) the mask. With
// q1.event_shape / q1.event_dtype declared (the largest event the node must take), `slot_bytes: 0`
// means "exactly what is needed" and a smaller explicit slot_bytes is refused at config load, so every
// daemon (and `peakctl start`) fails before anything runs instead of dropping 100 % of the events as
// slot_too_small. resolve_slot_sizes() runs inside parse_suite_config().
#include <cstdint>
#include <string>
#include <vector>

namespace peaknet::config {

struct SuiteConfig;

/// Bytes per element of a numpy dtype name ("uint8" .. "uint64", "int8" .. "int64", "float32",
/// "float64"); 0 for anything else.
uint64_t dtype_bytes(const std::string& dtype);
/// Page-rounded bytes of a Q1 slot for one event of `shape` (C, H, W) and `dtype`.
uint64_t q1_slot_bytes_for(const std::vector<int64_t>& shape, const std::string& dtype);
/// Pixel bytes a Q1 slot of `q1_slot_bytes` carries at most (the ring rounds slots up to pages; the
/// EventHeader page comes first): the largest frame inferd can copy into Q2.
int64_t payload_bytes_of_q1_slot(int64_t q1_slot_bytes);
/// Page-rounded bytes of a Q2 slot for `max_num_peak` peaks, (frame_bytes > 0) a frame copy and
/// (mask_bytes > 0) a host mask copy, each after the previous one at a 64-byte boundary.
uint64_t q2_slot_bytes_for(uint64_t max_num_peak, uint64_t frame_bytes, uint64_t mask_bytes = 0);
/// Fills slot_bytes 0 (auto) of q1/q2 and refuses sizes that cannot hold the declared events.
/// Throws ConfigError naming the keys and the size needed.
void resolve_slot_sizes(SuiteConfig& config);

}  // namespace peaknet::config

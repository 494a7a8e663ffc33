#pragma once
// Config of one shared-memory ring (sections "q1" and "q2").
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config/config_node.hpp"
#include "shm/ring_types.hpp"

namespace peaknet::config {

/// q1.policy / q2.policy: libshm's OverflowPolicy; its words are shm::to_string's.
inline constexpr std::array kOverflowPolicyValues{shm::OverflowPolicy::kBlock, shm::OverflowPolicy::kDropOldest,
                                                  shm::OverflowPolicy::kDropNewest};

struct RingConfig {
  std::string name;              ///< segment name suffix; the full name is "<shm_prefix>-<name>"
  int64_t slots = 64;            ///< number of fixed-size slots
  int64_t slot_bytes = 8 << 20;  ///< bytes per slot, header included (rounded up to a page); 0 = auto
                                 ///< (slot_sizes.hpp: from q1.event_shape/event_dtype, peaks, frames)
  shm::OverflowPolicy policy = shm::OverflowPolicy::kBlock;  ///< block | drop_oldest | drop_newest
  int64_t block_timeout_ms = 1000;  ///< how long a producer waits under `block` before retrying/logging
  bool group_shareable = false;     ///< 0660 instead of 0600
  /// q1 only: the largest event the ring must hold, [C, H, W] (empty = not declared, no check) and its
  /// wire dtype (numpy name). Used to size slots (slot_bytes 0) or to refuse too small ones.
  std::vector<int64_t> event_shape;
  std::string event_dtype = "float32";
};

/// `holds_events`: the section may declare event_shape / event_dtype (q1).
RingConfig parse_ring_config(ConfigNode node, const RingConfig& defaults, bool holds_events = false);

}  // namespace peaknet::config

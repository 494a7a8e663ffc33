#pragma once
// Config of one shared-memory ring (sections "q1" and "q2").
#include <cstdint>
#include <string>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct RingConfig {
  std::string name;                 ///< segment name suffix; the full name is "<shm_prefix>-<name>"
  int64_t slots = 64;               ///< number of fixed-size slots
  int64_t slot_bytes = 8 << 20;     ///< bytes per slot, header included (rounded up to a page)
  std::string policy = "block";     ///< block | drop_oldest | drop_newest
  int64_t block_timeout_ms = 1000;  ///< how long a producer waits under `block` before retrying/logging
  bool group_shareable = false;     ///< 0660 instead of 0600
};

RingConfig parse_ring_config(ConfigNode node, const RingConfig& defaults);

}  // namespace peaknet::config

#include "common/config/segment_names.hpp"

#include "common/config/suite_config.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::config {

std::string segment_name(const SuiteConfig& config, const RingConfig& ring) {
  return config.run.name + "-" + ring.name;
}

std::string stats_block_name(const std::string& run_name, const std::string& daemon_id) {
  return run_name + "-stats-" + daemon_id;
}

shm::RingOptions ring_options(const SuiteConfig& config, const RingConfig& ring) {
  shm::RingOptions o;
  o.name = segment_name(config, ring);
  o.slot_count = static_cast<uint32_t>(ring.slots);
  o.slot_bytes = static_cast<uint64_t>(ring.slot_bytes);
  o.policy = ring.policy;
  o.block_timeout = std::chrono::milliseconds(ring.block_timeout_ms);
  o.group_shareable = ring.group_shareable;
  o.payload_layout = shm::kEventLayoutVersion;  // both rings hold event_layout.hpp structs
  return o;
}

}  // namespace peaknet::config

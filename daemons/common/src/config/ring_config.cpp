#include "common/config/ring_config.hpp"

namespace peaknet::config {

RingConfig parse_ring_config(ConfigNode node, const RingConfig& defaults, bool holds_events) {
  RingConfig c = defaults;
  c.name = node.get_string("name", c.name);
  if (c.name.empty() || c.name.find('/') != std::string::npos) {
    throw ConfigError(node.key_path("name"), "must be a non-empty name without '/', got \"" + c.name + "\"");
  }
  c.slots = node.get_int("slots", c.slots, 2, 1 << 20);
  c.slot_bytes = node.get_int("slot_bytes", c.slot_bytes, 0, int64_t(1) << 34);
  c.policy = node.get_enum("policy", c.policy, kOverflowPolicyValues);
  c.block_timeout_ms = node.get_int("block_timeout_ms", c.block_timeout_ms, 1, 3'600'000);
  c.group_shareable = node.get_bool("group_shareable", c.group_shareable);
  if (holds_events) {
    c.event_shape = node.get_int_list("event_shape", c.event_shape, 1, int64_t(1) << 20);
    if (!c.event_shape.empty() && c.event_shape.size() != 3) {
      throw ConfigError(node.key_path("event_shape"), "must be [C, H, W] (panels, rows, columns), got " +
                                                          std::to_string(c.event_shape.size()) + " numbers");
    }
    c.event_dtype =
        node.get_enum("event_dtype", c.event_dtype,
                      {"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float32", "float64"});
  }
  node.finish();
  return c;
}

}  // namespace peaknet::config

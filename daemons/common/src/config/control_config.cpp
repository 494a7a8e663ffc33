#include "common/config/control_config.hpp"

namespace peaknet::config {

ControlConfig parse_control_config(ConfigNode node) {
  ControlConfig c;
  c.log_level = get_section_log_level(node);
  c.metrics_address = node.get_string("metrics_address", c.metrics_address);
  c.metrics_port = node.get_int("metrics_port", c.metrics_port, 0, 65535);
  c.stats_interval_ms = node.get_int("stats_interval_ms", c.stats_interval_ms, 50, 60000);
  c.ready_timeout_s = node.get_int("ready_timeout_s", c.ready_timeout_s, 1, 3600);
  c.stop_timeout_s = node.get_int("stop_timeout_s", c.stop_timeout_s, 1, 3600);
  c.bin_dir = node.get_string("bin_dir", c.bin_dir);
  c.use_systemd = node.get_bool("use_systemd", c.use_systemd);
  c.stall_timeout_s = node.get_int("stall_timeout_s", c.stall_timeout_s, 1, 86400);
  node.finish();
  return c;
}

}  // namespace peaknet::config

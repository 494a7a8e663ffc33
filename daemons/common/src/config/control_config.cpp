#include "common/config/control_config.hpp"

namespace peaknet::config {

ControlConfig parse_control_config(ConfigNode node) {
  ControlConfig c;
  c.log_level = node.get_enum("log_level", c.log_level,
                              {"", "trace", "debug", "info", "warn", "error", "critical", "off"});
  node.finish();
  return c;
}

}  // namespace peaknet::config

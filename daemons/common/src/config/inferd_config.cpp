#include "common/config/inferd_config.hpp"

namespace peaknet::config {

InferdConfig parse_inferd_config(ConfigNode node) {
  InferdConfig c;
  c.log_level = node.get_enum("log_level", c.log_level,
                              {"", "trace", "debug", "info", "warn", "error", "critical", "off"});
  node.finish();
  return c;
}

}  // namespace peaknet::config

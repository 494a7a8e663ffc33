#include "common/config/writerd_config.hpp"

namespace peaknet::config {

WriterdConfig parse_writerd_config(ConfigNode node) {
  WriterdConfig c;
  c.log_level = node.get_enum("log_level", c.log_level,
                              {"", "trace", "debug", "info", "warn", "error", "critical", "off"});
  node.finish();
  return c;
}

}  // namespace peaknet::config

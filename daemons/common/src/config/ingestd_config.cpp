#include "common/config/ingestd_config.hpp"

namespace peaknet::config {

IngestdConfig parse_ingestd_config(ConfigNode node) {
  IngestdConfig c;
  c.log_level = node.get_enum("log_level", c.log_level,
                              {"", "trace", "debug", "info", "warn", "error", "critical", "off"});
  node.finish();
  return c;
}

}  // namespace peaknet::config

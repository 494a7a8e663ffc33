#include "common/config/run_config.hpp"

namespace peaknet::config {

RunConfig parse_run_config(ConfigNode node) {
  RunConfig c;
  c.name = node.get_string("name", c.name);
  if (c.name.empty() || c.name.find_first_of("/ ") != std::string::npos) {
    throw ConfigError(node.key_path("name"), "must be non-empty without '/' or spaces, got \"" + c.name + "\"");
  }
  c.run_dir = node.get_string("run_dir", c.run_dir);
  c.log_level = node.get_enum("log_level", c.log_level, kLogLevelValues);
  c.group_access = node.get_bool("group_access", c.group_access);
  node.finish();
  return c;
}

}  // namespace peaknet::config

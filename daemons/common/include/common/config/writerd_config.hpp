#pragma once
// Section "writerd" of the suite config. Owned by the writerd work; keep keys, defaults and ranges here.
#include <string>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct WriterdConfig {
  std::string log_level;  ///< "" = run.log_level
};

WriterdConfig parse_writerd_config(ConfigNode node);

}  // namespace peaknet::config

#pragma once
// Section "inferd" of the suite config. Owned by the inferd work; keep keys, defaults and ranges here.
#include <string>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct InferdConfig {
  std::string log_level;  ///< "" = run.log_level
};

InferdConfig parse_inferd_config(ConfigNode node);

}  // namespace peaknet::config

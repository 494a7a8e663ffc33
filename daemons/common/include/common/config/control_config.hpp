#pragma once
// Section "control" of the suite config. Owned by the control work; keep keys, defaults and ranges here.
#include <string>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct ControlConfig {
  std::string log_level;  ///< "" = run.log_level
};

ControlConfig parse_control_config(ConfigNode node);

}  // namespace peaknet::config

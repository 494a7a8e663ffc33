#pragma once
// Section "ingestd" of the suite config. Owned by the ingestd work; keep keys, defaults and ranges here.
#include <string>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct IngestdConfig {
  std::string log_level;  ///< "" = run.log_level
};

IngestdConfig parse_ingestd_config(ConfigNode node);

}  // namespace peaknet::config

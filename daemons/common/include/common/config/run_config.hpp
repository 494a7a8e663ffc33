#pragma once
// Section "run": names shared by every daemon of one suite instance.
#include <string>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct RunConfig {
  std::string name = "peaknet";     ///< instance name; shm segments and sockets carry it
  std::string run_dir;              ///< control sockets, logs, pid files; "" = default (see run_dir.hpp)
  std::string log_level = "info";   ///< default for every daemon (each section may override)
};

RunConfig parse_run_config(ConfigNode node);

}  // namespace peaknet::config

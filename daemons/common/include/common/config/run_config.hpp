#pragma once
// Section "run": names shared by every daemon of one suite instance.
#include <string>

#include "common/config/config_node.hpp"
#include "common/config/log_level.hpp"

namespace peaknet::config {

struct RunConfig {
  std::string name = "peaknet";          ///< instance name; shm segments and sockets carry it
  std::string run_dir;                   ///< control sockets, logs, pid files; "" = default (see run_dir.hpp)
  LogLevel log_level = LogLevel::kInfo;  ///< default for every daemon (each section may override)
  /// Members of the daemons' group may watch the suite (peakctl status/stats without root): run dir
  /// 0750, control sockets 0660, pid/final files 0640, shm rings and counter blocks 0660.
  bool group_access = false;
};

RunConfig parse_run_config(ConfigNode node);

}  // namespace peaknet::config

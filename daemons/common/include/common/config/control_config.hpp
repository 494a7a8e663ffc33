#pragma once
// Section "control" of the suite config: peakctl, the supervisor and the metrics endpoint.
// Owned by the control work; keep keys, defaults and ranges here (docs/ctl.md lists them).
#include <cstdint>
#include <optional>
#include <string>

#include "common/config/config_node.hpp"
#include "common/config/log_level.hpp"

namespace peaknet::config {

struct ControlConfig {
  std::optional<LogLevel> log_level;          ///< unset ("" in the file) = run.log_level (peakctl and its supervisor)
  std::string metrics_address = "127.0.0.1";  ///< Prometheus endpoint bind address
  int64_t metrics_port = 9464;                ///< 0 = no endpoint (peakctl start's supervisor / peakctl metrics)
  int64_t stats_interval_ms = 1000;           ///< refresh of `peakctl stats` and the metrics snapshot
  int64_t ready_timeout_s = 300;              ///< start/run: how long to wait for every daemon to be ready
  int64_t stop_timeout_s = 120;               ///< stop: per pipeline stage, before escalating to stop/SIGKILL
  std::string bin_dir;                        ///< where the daemon binaries are ("" = next to peakctl, then PATH)
  bool use_systemd = true;                    ///< start via systemd when the units are installed
  /// Every daemon: a worker thread holding events without progress (or not coming back from a wait) for
  /// longer than this is a stall — state "stalled", counter "stalls", an error line, no watchdog pets.
  int64_t stall_timeout_s = 30;
};

ControlConfig parse_control_config(ConfigNode node);

}  // namespace peaknet::config

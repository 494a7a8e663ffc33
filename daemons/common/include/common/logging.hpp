#pragma once
// Logging for every daemon: spdlog, one logger per process named after the daemon, level per daemon.
#include <chrono>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "common/config/log_level.hpp"

namespace peaknet::logging {

/// Sets the default logger: "<time> <daemon>[pid] <level> message" to stderr (journald adds its own
/// timestamps, so systemd units set PEAKNET_LOG_PLAIN=1 to drop ours).
void init(const std::string& daemon_name, config::LogLevel level);
/// Changes the level at run time (control plane `config set log_level`).
void set_level(config::LogLevel level);
/// The level a process logs at: `--log-level` when given (ConfigError naming it when not a level), else
/// its section's log_level, else run.log_level.
config::LogLevel effective_level(const std::string& cli_level, const std::optional<config::LogLevel>& section,
                                 config::LogLevel run_level);

/// Lets one log line through per `interval`; counts what it held back so the next line can say so.
/// Used for per-message warnings from the network (bad input must never flood the log).
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds interval) : interval_(interval) {}
  /// True when a line may be written now; `suppressed` receives how many were held back before it.
  bool allow(uint64_t& suppressed);

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t held_ = 0;
  bool first_ = true;
};

}  // namespace peaknet::logging

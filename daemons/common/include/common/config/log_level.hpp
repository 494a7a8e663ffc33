#pragma once
// Log levels: one list for run.log_level, each daemon's and control's log_level, --log-level and
// `peakctl reconfigure log_level=...`. A section's own level is optional: unset ("" or absent) means
// run.log_level.
#include <array>
#include <optional>
#include <string_view>

#include "common/config/config_node.hpp"

namespace peaknet::config {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };
std::string_view to_string(LogLevel level);
inline constexpr std::array kLogLevelValues{LogLevel::kTrace, LogLevel::kDebug,    LogLevel::kInfo, LogLevel::kWarn,
                                            LogLevel::kError, LogLevel::kCritical, LogLevel::kOff};

/// "<section>.log_level": nullopt when absent or "" (the section follows run.log_level).
std::optional<LogLevel> get_section_log_level(ConfigNode& node);

}  // namespace peaknet::config

#include "common/config/log_level.hpp"

namespace peaknet::config {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      return "off";
  }
  return "unknown";
}

std::optional<LogLevel> get_section_log_level(ConfigNode& node) {
  const std::string text = node.get_string("log_level", "");
  if (text.empty()) return std::nullopt;
  return parse_enum(node.key_path("log_level"), text, kLogLevelValues);
}

}  // namespace peaknet::config

#include "common/logging.hpp"

#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace peaknet::logging {

spdlog::level::level_enum parse_level(const std::string& level) {
  for (int i = 0; i < spdlog::level::n_levels; ++i) {
    const auto lvl = static_cast<spdlog::level::level_enum>(i);
    const auto name = spdlog::level::to_string_view(lvl);
    if (level == std::string(name.data(), name.size())) return lvl;
  }
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  throw std::invalid_argument("unknown log level \"" + level + "\"");
}

void init(const std::string& daemon_name, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(daemon_name);
  const char* plain = std::getenv("PEAKNET_LOG_PLAIN");
  if (plain && std::string(plain) == "1") {
    logger->set_pattern("%n %l %v");
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n[" + std::to_string(::getpid()) + "] %^%l%$ %v");
  }
  logger->set_level(parse_level(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void set_level(const std::string& level) { spdlog::default_logger()->set_level(parse_level(level)); }

bool RateLimiter::allow(uint64_t& suppressed) {
  const auto now = std::chrono::steady_clock::now();
  if (first_ || now - last_ >= interval_) {
    first_ = false;
    last_ = now;
    suppressed = held_;
    held_ = 0;
    return true;
  }
  ++held_;
  return false;
}

}  // namespace peaknet::logging

#include "common/logging.hpp"

#include <unistd.h>
#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace peaknet::logging {

namespace {

spdlog::level::level_enum spdlog_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return spdlog::level::trace;
    case config::LogLevel::kDebug:
      return spdlog::level::debug;
    case config::LogLevel::kInfo:
      return spdlog::level::info;
    case config::LogLevel::kWarn:
      return spdlog::level::warn;
    case config::LogLevel::kError:
      return spdlog::level::err;
    case config::LogLevel::kCritical:
      return spdlog::level::critical;
    case config::LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

config::LogLevel effective_level(const std::string& cli_level, const std::optional<config::LogLevel>& section,
                                 config::LogLevel run_level) {
  if (!cli_level.empty()) return config::parse_enum("--log-level", cli_level, config::kLogLevelValues);
  return section.value_or(run_level);
}

void init(const std::string& daemon_name, config::LogLevel level) {
  spdlog::drop(daemon_name);  // a second init (tests run several daemon mains in one process) replaces it
  auto logger = spdlog::stderr_color_mt(daemon_name);
  const char* plain = std::getenv("PEAKNET_LOG_PLAIN");
  if (plain && std::string(plain) == "1") {
    logger->set_pattern("%n %l %v");
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n[" + std::to_string(::getpid()) + "] %^%l%$ %v");
  }
  logger->set_level(spdlog_level(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void set_level(config::LogLevel level) { spdlog::default_logger()->set_level(spdlog_level(level)); }

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

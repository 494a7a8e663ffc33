#pragma once
// ConfigError: every configuration problem, with the key path it concerns
// ("config.inferd.batch_size: must be >= 1, got 0"), so an operator can fix it without reading code.
#include <stdexcept>
#include <string>

namespace peaknet::config {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& key_path, const std::string& what)
      : std::runtime_error(key_path + ": " + what), key_path_(key_path) {}
  const std::string& key_path() const noexcept { return key_path_; }

 private:
  std::string key_path_;
};

}  // namespace peaknet::config

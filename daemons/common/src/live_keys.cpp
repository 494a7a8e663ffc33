#include "common/live_keys.hpp"

#include <algorithm>
#include <exception>

namespace peaknet::common {

std::vector<std::string> live_key_names(const LiveKeys& table) {
  std::vector<std::string> names;
  for (const auto& entry : table) names.push_back(entry.key);
  return names;
}

bool apply_live_key(const LiveKeys& table, const std::string& key, const nlohmann::json& value, std::string& error) {
  const auto it = std::find_if(table.begin(), table.end(), [&](const LiveKey& e) { return e.key == key; });
  if (it == table.end()) {
    error = key + ": not a live key here (live: " + nlohmann::json(live_key_names(table)).dump() + ")";
    return false;
  }
  try {
    return it->apply(value, error);
  } catch (const std::exception& e) {
    error = key + ": " + e.what() + " (value " + value.dump() + ")";
    return false;
  }
}

}  // namespace peaknet::common

#include "common/config/overrides.hpp"

#include "common/config/config_error.hpp"

namespace peaknet::config {

void apply_override(nlohmann::json& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set " + assignment, "expected key.path=value");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);

  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;

  nlohmann::json* node = &root;
  std::string walked = "config";
  size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw ConfigError("--set " + assignment, "empty key component");
    if (!node->is_object()) throw ConfigError(walked, "is not an object; cannot set " + key);
    walked += "." + part;
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    if (node->is_null()) *node = nlohmann::json::object();
    start = dot + 1;
  }
}

void apply_overrides(nlohmann::json& root, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_override(root, a);
}

}  // namespace peaknet::config

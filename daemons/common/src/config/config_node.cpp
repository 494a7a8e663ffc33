#include "common/config/config_node.hpp"

#include <algorithm>
#include <sstream>

namespace peaknet::config {
namespace {

std::string show(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string show_range(double min, double max) {
  std::ostringstream out;
  out << "[" << min << ", " << max << "]";
  return out.str();
}

}  // namespace

ConfigNode::ConfigNode(const nlohmann::json& object, std::string path)
    : object_(object.is_null() ? nlohmann::json::object() : object), path_(std::move(path)) {
  if (!object_.is_object()) {
    throw ConfigError(path_, "must be an object, got " + show(object_));
  }
}

bool ConfigNode::has(std::string_view key) const { return object_.contains(std::string(key)); }

std::string ConfigNode::key_path(std::string_view key) const { return path_ + "." + std::string(key); }

void ConfigNode::fail(std::string_view key, const std::string& what) const { throw ConfigError(key_path(key), what); }

const nlohmann::json* ConfigNode::lookup(std::string_view key) {
  read_.emplace(key);
  auto it = object_.find(std::string(key));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool ConfigNode::get_bool(std::string_view key, bool fallback) {
  const auto* value = lookup(key);
  if (!value) return fallback;
  if (!value->is_boolean()) fail(key, "must be true or false, got " + show(*value));
  return value->get<bool>();
}

int64_t ConfigNode::get_int(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const auto* value = lookup(key);
  if (!value) return fallback;
  if (!value->is_number_integer()) fail(key, "must be an integer, got " + show(*value));
  if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t(max)) {
    fail(key, "must be <= " + std::to_string(max) + ", got " + show(*value));
  }
  const int64_t v = value->get<int64_t>();
  if (v < min) fail(key, "must be >= " + std::to_string(min) + ", got " + show(*value));
  if (v > max) fail(key, "must be <= " + std::to_string(max) + ", got " + show(*value));
  return v;
}

double ConfigNode::get_double(std::string_view key, double fallback, double min, double max) {
  const auto* value = lookup(key);
  if (!value) return fallback;
  if (!value->is_number()) fail(key, "must be a number, got " + show(*value));
  const double v = value->get<double>();
  if (!(v >= min && v <= max)) fail(key, "must be in " + show_range(min, max) + ", got " + show(*value));
  return v;
}

std::string ConfigNode::get_string(std::string_view key, const std::string& fallback) {
  const auto* value = lookup(key);
  if (!value) return fallback;
  if (!value->is_string()) fail(key, "must be a string, got " + show(*value));
  return value->get<std::string>();
}

std::string ConfigNode::get_enum(std::string_view key, const std::string& fallback,
                                 std::initializer_list<std::string_view> allowed) {
  std::string v = get_string(key, fallback);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) fail(key, not_one_of(v, allowed));
  return v;
}

std::vector<int64_t> ConfigNode::get_int_list(std::string_view key, const std::vector<int64_t>& fallback, int64_t min,
                                              int64_t max) {
  const auto* value = lookup(key);
  if (!value) return fallback;
  if (!value->is_array()) fail(key, "must be a list of integers, got " + show(*value));
  std::vector<int64_t> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.is_number_integer()) fail(item_key, "must be an integer, got " + show(item));
    const int64_t v = item.get<int64_t>();
    if (v < min || v > max) {
      fail(item_key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + show(item));
    }
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> ConfigNode::get_string_list(std::string_view key, const std::vector<std::string>& fallback) {
  const auto* value = lookup(key);
  if (!value) return fallback;
  if (!value->is_array()) fail(key, "must be a list of strings, got " + show(*value));
  std::vector<std::string> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string()) {
      fail(std::string(key) + "[" + std::to_string(i) + "]", "must be a string, got " + show(item));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

ConfigNode ConfigNode::child(std::string_view key) {
  const auto* value = lookup(key);
  if (!value) return ConfigNode(nlohmann::json::object(), key_path(key));
  if (!value->is_object()) fail(key, "must be an object, got " + show(*value));
  return ConfigNode(*value, key_path(key));
}

std::vector<ConfigNode> ConfigNode::child_list(std::string_view key) {
  const auto* value = lookup(key);
  std::vector<ConfigNode> out;
  if (!value) return out;
  if (!value->is_array()) fail(key, "must be a list of objects, got " + show(*value));
  for (size_t i = 0; i < value->size(); ++i) {
    out.emplace_back((*value)[i], key_path(key) + "[" + std::to_string(i) + "]");
  }
  return out;
}

nlohmann::json ConfigNode::get_raw(std::string_view key, const nlohmann::json& fallback) {
  const auto* value = lookup(key);
  return value ? *value : fallback;
}

void ConfigNode::finish() const {
  for (const auto& [key, value] : object_.items()) {
    if (read_.find(key) == read_.end()) {
      throw ConfigError(key_path(key), "unknown key (value " + show(value) + ")");
    }
  }
}

}  // namespace peaknet::config

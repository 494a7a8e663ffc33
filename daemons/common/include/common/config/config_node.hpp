#pragma once
// ConfigNode: strict, typed reading of one JSON object of the suite config.
// Every key read is remembered; finish() rejects keys nobody read (typos never pass silently).
// Wrong types and out-of-range values throw ConfigError naming the full key path and the value.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/config_error.hpp"
#include "common/config/enum_values.hpp"

namespace peaknet::config {

class ConfigNode {
 public:
  /// `path` is the dotted path of `object` from the root ("config.inferd").
  ConfigNode(const nlohmann::json& object, std::string path);

  bool has(std::string_view key) const;
  const std::string& path() const noexcept { return path_; }
  std::string key_path(std::string_view key) const;

  bool get_bool(std::string_view key, bool fallback);
  int64_t get_int(std::string_view key, int64_t fallback, int64_t min = std::numeric_limits<int64_t>::min(),
                  int64_t max = std::numeric_limits<int64_t>::max());
  double get_double(std::string_view key, double fallback, double min = -std::numeric_limits<double>::infinity(),
                    double max = std::numeric_limits<double>::infinity());
  std::string get_string(std::string_view key, const std::string& fallback);
  /// A string that must be one of `allowed`.
  std::string get_enum(std::string_view key, const std::string& fallback,
                       std::initializer_list<std::string_view> allowed);
  /// A word that must be to_string() of one of `values` (common/config/enum_values.hpp), as the enum.
  template <typename E, size_t N>
  E get_enum(std::string_view key, E fallback, const std::array<E, N>& values) {
    const std::string text = get_string(key, std::string(to_string(fallback)));
    return parse_enum(key_path(key), text, values);
  }
  std::vector<int64_t> get_int_list(std::string_view key, const std::vector<int64_t>& fallback,
                                    int64_t min = std::numeric_limits<int64_t>::min(),
                                    int64_t max = std::numeric_limits<int64_t>::max());
  std::vector<std::string> get_string_list(std::string_view key, const std::vector<std::string>& fallback);
  /// A nested object (absent -> empty object). Call finish() on it too.
  ConfigNode child(std::string_view key);
  /// An array of objects (absent -> empty).
  std::vector<ConfigNode> child_list(std::string_view key);
  /// The raw JSON of a key that some other component validates itself (e.g. a model config).
  nlohmann::json get_raw(std::string_view key, const nlohmann::json& fallback);

  /// Throws ConfigError for the first key of this object that was never read.
  void finish() const;

 private:
  const nlohmann::json* lookup(std::string_view key);
  [[noreturn]] void fail(std::string_view key, const std::string& what) const;

  nlohmann::json object_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
};

}  // namespace peaknet::config

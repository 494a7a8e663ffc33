#pragma once
// Enum-like config values are parsed once, here, into enums; the daemons switch on the enum and print
// it back with the enum's one to_string(). Each enum lists its values once (kXxxValues); the config
// text of a value is to_string(value), so the accepted words and the printed words cannot drift apart.
// A word outside the list is a ConfigError naming the key and every allowed word:
//   config.writerd.on_error: must be one of {block, drop}, got "ignore"
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config_error.hpp"

namespace peaknet::config {

/// The wording of every "not an allowed word" error: must be one of {a, b}, got "x".
std::string not_one_of(std::string_view text, const std::vector<std::string_view>& allowed);

/// The value whose to_string() is `text`; nullopt when none is.
template <typename E, size_t N>
std::optional<E> enum_from_string(std::string_view text, const std::array<E, N>& values) {
  for (E v : values) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

/// Every allowed word, in list order.
template <typename E, size_t N>
std::vector<std::string_view> enum_names(const std::array<E, N>& values) {
  std::vector<std::string_view> names;
  for (E v : values) names.push_back(to_string(v));
  return names;
}

/// `text` as an enum of `values`; ConfigError at `key_path` listing the allowed words otherwise.
template <typename E, size_t N>
E parse_enum(const std::string& key_path, std::string_view text, const std::array<E, N>& values) {
  if (auto v = enum_from_string(text, values)) return *v;
  throw ConfigError(key_path, not_one_of(text, enum_names(values)));
}

}  // namespace peaknet::config

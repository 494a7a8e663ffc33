#pragma once
// Command-line overrides: `--set a.b.c=value`. The value is parsed as JSON when it is valid JSON
// (numbers, true/false, null, quoted strings, lists, objects) and taken as a plain string otherwise,
// so `--set writerd.output_dir=/data/run7` and `--set inferd.batch_size=8` both work.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace peaknet::config {

/// Applies one "a.b.c=value" to `root` (creating intermediate objects). Throws ConfigError when
/// the text has no '=' or an empty key, or when the path runs through a non-object.
void apply_override(nlohmann::json& root, const std::string& assignment);
void apply_overrides(nlohmann::json& root, const std::vector<std::string>& assignments);

}  // namespace peaknet::config

#include "common/config/suite_config.hpp"

#include <fstream>
#include <functional>
#include <iomanip>
#include <sstream>

#include "common/config/frame_path.hpp"
#include "common/config/mask_path.hpp"
#include "common/config/overrides.hpp"
#include "common/config/slot_sizes.hpp"

namespace peaknet::config {

SuiteConfig parse_suite_config(const nlohmann::json& root, std::string source) {
  ConfigNode node(root, "config");
  SuiteConfig c;
  c.run = parse_run_config(node.child("run"));
  RingConfig q1_defaults;
  q1_defaults.name = "q1";
  c.q1 = parse_ring_config(node.child("q1"), q1_defaults, /*holds_events=*/true);
  RingConfig q2_defaults;
  q2_defaults.name = "q2";
  q2_defaults.slot_bytes = 256 << 10;
  q2_defaults.slots = 256;
  c.q2 = parse_ring_config(node.child("q2"), q2_defaults);
  c.peaks = parse_peaks_config(node.child("peaks"));
  c.ingestd = parse_ingestd_config(node.child("ingestd"));
  c.inferd = parse_inferd_config(node.child("inferd"));
  c.writerd = parse_writerd_config(node.child("writerd"));
  c.control = parse_control_config(node.child("control"));
  node.finish();
  if (c.run.group_access) c.q1.group_shareable = c.q2.group_shareable = true;  // one switch for every segment
  derive_frame_settings(root, c);  // inferd.write_frames follows writerd's before slot sizes are derived
  derive_mask_settings(root, c);   // so does inferd.write_masks
  const bool q2_given =
      root.is_object() && root.contains("q2") && root["q2"].is_object() && root["q2"].contains("slot_bytes");
  const bool q2_auto = !q2_given || c.q2.slot_bytes == 0;
  // Derived for the frames / host masks, not the default.
  if (q2_auto && (c.inferd.write_frames || masks_by_host_copy(c))) c.q2.slot_bytes = 0;
  resolve_slot_sizes(c);
  check_q2_frame_room(q2_auto, c);
  c.raw = root;
  c.source = std::move(source);
  return c;
}

SuiteConfig load_suite_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path, "cannot open config file");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path, std::string("invalid JSON: ") + e.what());
  }
  apply_overrides(root, overrides);
  return parse_suite_config(root, path);
}

std::string SuiteConfig::digest() const {
  // FNV-1a over the canonical dump: stable across runs and machines (std::hash is not).
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : raw.dump()) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << h;
  return out.str().substr(0, 12);
}

}  // namespace peaknet::config

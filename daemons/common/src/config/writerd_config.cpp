#include "common/config/writerd_config.hpp"

namespace peaknet::config {

std::string_view to_string(OnError on_error) {
  switch (on_error) {
    case OnError::kBlock:
      return "block";
    case OnError::kDrop:
      return "drop";
  }
  return "unknown";
}

std::string_view to_string(FsyncPolicy fsync) {
  switch (fsync) {
    case FsyncPolicy::kNone:
      return "none";
    case FsyncPolicy::kFile:
      return "file";
  }
  return "unknown";
}

WriterdConfig parse_writerd_config(ConfigNode node) {
  WriterdConfig c;
  c.log_level = get_section_log_level(node);
  c.output_dir = node.get_string("output_dir", c.output_dir);
  if (c.output_dir.empty()) throw ConfigError(node.key_path("output_dir"), "must not be empty");
  c.file_pattern = node.get_string("file_pattern", c.file_pattern);
  if (c.file_pattern.find("{seq}") == std::string::npos || c.file_pattern.size() < 4 ||
      c.file_pattern.substr(c.file_pattern.size() - 4) != ".cxi" || c.file_pattern.find('/') != std::string::npos) {
    throw ConfigError(node.key_path("file_pattern"),
                      "must contain {seq}, end in .cxi and have no '/', got \"" + c.file_pattern + "\"");
  }
  c.events_per_file = node.get_int("events_per_file", c.events_per_file, 1, 1 << 20);
  c.max_file_age_ms = node.get_int("max_file_age_ms", c.max_file_age_ms, 1, 86'400'000);
  c.fsync = node.get_enum("fsync", c.fsync, kFsyncPolicyValues);
  c.geometry = node.get_string("geometry", c.geometry);
  c.write_frames = node.get_bool("write_frames", c.write_frames);
  c.write_masks = node.get_bool("write_masks", c.write_masks);
  c.compression_level = node.get_int("compression_level", c.compression_level, 0, 9);
  c.compression_threads = node.get_int("compression_threads", c.compression_threads, 0, 256);
  c.keep_all_events = node.get_bool("keep_all_events", c.keep_all_events);
  c.pub_endpoint = node.get_string("pub_endpoint", c.pub_endpoint);
  c.on_error = node.get_enum("on_error", c.on_error, kOnErrorValues);
  c.retry_interval_ms = node.get_int("retry_interval_ms", c.retry_interval_ms, 1, 600'000);
  c.claim_batch = node.get_int("claim_batch", c.claim_batch, 1, 65'536);
  c.claim_timeout_ms = node.get_int("claim_timeout_ms", c.claim_timeout_ms, 1, 60'000);
  c.max_held_slots = node.get_int("max_held_slots", c.max_held_slots, 0, 1 << 24);
  c.stats_interval_ms = node.get_int("stats_interval_ms", c.stats_interval_ms, 10, 3'600'000);
  c.dedup_window = node.get_int("dedup_window", c.dedup_window, 1, int64_t(1) << 31);
  node.finish();
  return c;
}

}  // namespace peaknet::config

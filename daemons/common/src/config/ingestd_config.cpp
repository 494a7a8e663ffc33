#include "common/config/ingestd_config.hpp"

namespace peaknet::config {

std::string_view to_string(IngestSource source) {
  switch (source) {
    case IngestSource::kZmq:
      return "zmq";
    case IngestSource::kSynthetic:
      return "synthetic";
    case IngestSource::kReplay:
      return "replay";
  }
  return "unknown";
}

std::string_view to_string(EndpointMode mode) {
  switch (mode) {
    case EndpointMode::kBind:
      return "bind";
    case EndpointMode::kConnect:
      return "connect";
  }
  return "unknown";
}

namespace {

IngestdEndpointConfig parse_endpoint(ConfigNode node) {
  IngestdEndpointConfig e;
  e.url = node.get_string("url", e.url);
  const auto scheme_end = e.url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0 || scheme_end + 3 >= e.url.size()) {
    throw ConfigError(node.key_path("url"),
                      "must be a ZeroMQ endpoint like tcp://*:12321 or ipc:///path, got \"" + e.url + "\"");
  }
  e.mode = node.get_enum("mode", e.mode, kEndpointModeValues);
  e.rcvhwm = node.get_int("rcvhwm", e.rcvhwm, -1, 1 << 20);
  e.rcvbuf_bytes = node.get_int("rcvbuf_bytes", e.rcvbuf_bytes, -1, int64_t(1) << 31);
  node.finish();
  return e;
}

IngestdSyntheticConfig parse_synthetic(ConfigNode node) {
  IngestdSyntheticConfig s;
  s.shape = node.get_int_list("shape", s.shape, 1, 1 << 16);
  if (s.shape.size() != 3) {
    throw ConfigError(node.key_path("shape"),
                      "must be [C, H, W] (3 positive integers), got " + std::to_string(s.shape.size()) + " values");
  }
  s.dtype = node.get_enum("dtype", s.dtype, {"float32", "float64", "uint16", "int32"});
  s.peaks_per_frame = node.get_int("peaks_per_frame", s.peaks_per_frame, 0, 1 << 20);
  s.peak_sigma_px = node.get_double("peak_sigma_px", s.peak_sigma_px, 0.1, 100.0);
  s.peak_amplitude = node.get_double("peak_amplitude", s.peak_amplitude, 0.0, 1e9);
  s.background = node.get_double("background", s.background, -1e9, 1e9);
  s.noise_sigma = node.get_double("noise_sigma", s.noise_sigma, 0.0, 1e9);
  s.rate_hz = node.get_double("rate_hz", s.rate_hz, 0.0, 1e9);
  s.events = node.get_int("events", s.events, 0);
  s.seed = node.get_int("seed", s.seed);
  s.photon_wavelength_a = node.get_double("photon_wavelength_a", s.photon_wavelength_a, 0.0, 1e6);
  node.finish();
  return s;
}

IngestdReplayConfig parse_replay(ConfigNode node) {
  IngestdReplayConfig r;
  r.dir = node.get_string("dir", r.dir);
  r.speed = node.get_double("speed", r.speed, 0.0, 1e6);
  r.loops = node.get_int("loops", r.loops, 0);
  node.finish();
  return r;
}

}  // namespace

IngestdConfig parse_ingestd_config(ConfigNode node) {
  IngestdConfig c;
  c.log_level = get_section_log_level(node);
  c.source = node.get_enum("source", c.source, kIngestSourceValues);
  for (auto& endpoint : node.child_list("endpoints")) c.endpoints.push_back(parse_endpoint(endpoint));
  if (c.endpoints.empty()) c.endpoints.push_back(IngestdEndpointConfig{"tcp://*:12321"});
  c.receive_hwm = node.get_int("receive_hwm", c.receive_hwm, 0, 1 << 20);
  c.receive_buffer_bytes = node.get_int("receive_buffer_bytes", c.receive_buffer_bytes, 0, int64_t(1) << 31);
  c.max_message_bytes = node.get_int("max_message_bytes", c.max_message_bytes, 1, int64_t(1) << 40);
  c.decode_threads = node.get_int("decode_threads", c.decode_threads, 1, 256);
  c.io_threads = node.get_int("io_threads", c.io_threads, 0, 64);
  c.decode_queue_messages = node.get_int("decode_queue_messages", c.decode_queue_messages, 1, 1 << 16);
  c.stop_flush_timeout_s = node.get_double("stop_flush_timeout_s", c.stop_flush_timeout_s, 0.0, 1e6);
  c.end_grace_s = node.get_double("end_grace_s", c.end_grace_s, 0.0, 1e6);
  c.idle_timeout_s = node.get_double("idle_timeout_s", c.idle_timeout_s, 0.0, 1e9);
  c.waiting_log_interval_s = node.get_double("waiting_log_interval_s", c.waiting_log_interval_s, 0.1, 1e6);
  c.end_on_simplon_stop = node.get_bool("end_on_simplon_stop", c.end_on_simplon_stop);
  c.reject_log_interval_ms = node.get_int("reject_log_interval_ms", c.reject_log_interval_ms, 0, 3'600'000);
  c.record_dir = node.get_string("record_dir", c.record_dir);
  c.quarantine_dir = node.get_string("quarantine_dir", c.quarantine_dir);
  c.quarantine_max_files = node.get_int("quarantine_max_files", c.quarantine_max_files, 0);
  c.decode = node.get_raw("decode", c.decode);
  if (!c.decode.is_object()) {
    throw ConfigError(node.key_path("decode"), "must be an object of decoder options, got " + c.decode.dump());
  }
  c.synthetic = parse_synthetic(node.child("synthetic"));
  c.replay = parse_replay(node.child("replay"));
  if (c.source == IngestSource::kReplay && c.replay.dir.empty()) {
    throw ConfigError(node.key_path("replay.dir"), "must name a recording directory when source is \"replay\"");
  }
  node.finish();
  return c;
}

}  // namespace peaknet::config

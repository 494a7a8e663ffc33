#pragma once
// Section "ingestd" of the suite config. Owned by the ingestd work; keep keys, defaults and ranges here.
// docs/ingestd.md lists every key with its meaning.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/config_node.hpp"
#include "common/config/log_level.hpp"

namespace peaknet::config {

enum class IngestSource { kZmq, kSynthetic, kReplay };
enum class EndpointMode { kBind, kConnect };
std::string_view to_string(IngestSource source);
std::string_view to_string(EndpointMode mode);
inline constexpr std::array kIngestSourceValues{IngestSource::kZmq, IngestSource::kSynthetic, IngestSource::kReplay};
inline constexpr std::array kEndpointModeValues{EndpointMode::kBind, EndpointMode::kConnect};

/// One ZeroMQ PULL endpoint. `bind` is the normal case: lclstreamer ranks connect their PUSH to us.
struct IngestdEndpointConfig {
  std::string url;                          ///< "tcp://*:12321", "ipc:///run/peaknet/in.sock", ...
  EndpointMode mode = EndpointMode::kBind;  ///< bind | connect
  int64_t rcvhwm = -1;                      ///< messages; -1 = ingestd.receive_hwm
  int64_t rcvbuf_bytes = -1;                ///< kernel receive buffer; -1 = ingestd.receive_buffer_bytes
};

/// Frames with Gaussian peaks on a noisy background (benchmarks, demos, tests without a streamer).
struct IngestdSyntheticConfig {
  std::vector<int64_t> shape = {1, 512, 512};  ///< C, H, W
  std::string dtype = "float32";               ///< float32 | float64 | uint16 | int32
  int64_t peaks_per_frame = 20;
  double peak_sigma_px = 1.5;
  double peak_amplitude = 500.0;
  double background = 10.0;
  double noise_sigma = 2.0;
  double rate_hz = 0.0;  ///< events/s; 0 = as fast as possible
  int64_t events = 0;    ///< 0 = forever
  int64_t seed = 1;
  double photon_wavelength_a = 1.3;
};

/// Re-sends messages recorded with `record_dir`.
struct IngestdReplayConfig {
  std::string dir;     ///< a directory written by `--record`
  double speed = 1.0;  ///< N x the recorded rate; 0 = as fast as possible
  int64_t loops = 1;   ///< how many passes over the recording (0 = forever)
};

struct IngestdConfig {
  std::optional<LogLevel> log_level;             ///< unset ("" in the file) = run.log_level
  IngestSource source = IngestSource::kZmq;      ///< zmq | synthetic | replay
  std::vector<IngestdEndpointConfig> endpoints;  ///< default: one bind on tcp://*:12321
  int64_t receive_hwm = 8;                       ///< ZMQ_RCVHWM (messages; each may be ~0.5 GB)
  int64_t receive_buffer_bytes = 0;              ///< ZMQ_RCVBUF; 0 = OS default
  int64_t max_message_bytes = int64_t(2) << 30;  ///< ZMQ_MAXMSGSIZE guard
  int64_t decode_threads = 2;
  int64_t io_threads = 0;  ///< ZeroMQ I/O threads; 0 = max(2, one per endpoint) (one TCP stream ≈ one core)
  int64_t decode_queue_messages = 8;      ///< bounded queue between receivers and decoders
  double stop_flush_timeout_s = 10.0;     ///< on stop: how long to wait for Q1 room before dropping
  double end_grace_s = 1.0;               ///< after a Simplon stop/end: keep receiving until idle this long
  double idle_timeout_s = 0.0;            ///< end the run after this long without data; 0 = never
  double waiting_log_interval_s = 30.0;   ///< "waiting for data" line while idle
  bool end_on_simplon_stop = true;        ///< Simplon stop/end message ends the run
  int64_t reject_log_interval_ms = 1000;  ///< rate limit of per-message warnings
  std::string record_dir;                 ///< save every received raw message here ("" = off)
  std::string quarantine_dir;             ///< save rejected messages here ("" = off)
  int64_t quarantine_max_files = 1000;
  /// Object "ingestd.decode": decoder options (keys, limits, pad mode), validated by the decoders
  /// (peaknet::ingest::DecoderOptions::from_config) when ingestd starts.
  nlohmann::json decode = nlohmann::json::object();
  IngestdSyntheticConfig synthetic;
  IngestdReplayConfig replay;
};

IngestdConfig parse_ingestd_config(ConfigNode node);

}  // namespace peaknet::config

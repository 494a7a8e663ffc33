#pragma once
// SyntheticFrames: detector-like frames (Gaussian Bragg-like peaks on a noisy flat background) for
// benchmarks, demos and tests without a streamer. Deterministic: event i of seed s is always the same
// bytes, whatever was generated before it (each event seeds its own generator from (s, i)), so a test
// can regenerate any event and compare.
// Fast enough for "as fast as possible" runs: the noise comes from a precomputed table read at a
// random offset per row, so a frame costs about one pass over its pixels.
#include <cstdint>
#include <span>
#include <vector>

#include "common/config/ingestd_config.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::ingestd {

/// "float32" | "float64" | "uint16" | "int32" -> DType; throws std::invalid_argument otherwise.
shm::DType parse_dtype_name(const std::string& name);

class SyntheticFrames {
 public:
  explicit SyntheticFrames(const config::IngestdSyntheticConfig& config);

  uint32_t channels() const { return channels_; }
  uint32_t height() const { return height_; }
  uint32_t width() const { return width_; }
  shm::DType dtype() const { return dtype_; }
  uint64_t frame_bytes() const;

  /// Writes event `index` into `out` (exactly frame_bytes() bytes, else std::invalid_argument).
  void fill(uint64_t index, std::span<std::byte> out) const;
  /// Per-event timestamp (seconds, like a random producer's): start time + index / rate.
  double timestamp(uint64_t index) const;
  double photon_wavelength_a() const { return wavelength_a_; }

 private:
  template <typename T>
  void fill_typed(uint64_t index, T* out) const;

  uint32_t channels_, height_, width_;
  shm::DType dtype_;
  uint64_t seed_;
  int64_t peaks_per_frame_;
  double sigma_px_, amplitude_, wavelength_a_, rate_hz_;
  std::vector<float> noise_table_;  ///< background + N(0, noise_sigma) samples
};

}  // namespace peaknet::ingestd

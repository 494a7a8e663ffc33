#pragma once
// bench_inferd's command-line options, frame shapes, and the suite config each streaming measurement
// runs inferd with (shared by the single-process and the multi-GPU modes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace peaknet::bench {

struct Shape {
  int64_t b, c, h, w;
  std::string text() const { return fmt::format("{}x{}x{}x{}", b, c, h, w); }
};

/// "16x1x1920x1920,128x1x512x512" -> shapes; std::invalid_argument naming the bad item.
std::vector<Shape> parse_shapes(const std::string& text);

/// "0,1" -> {0, 1}: distinct non-negative CUDA device indices; std::invalid_argument otherwise.
std::vector<int> parse_gpu_list(const std::string& text);

struct Options {
  std::string device = "cpu", model = "tiny", precision = "fp32", shapes = "4x1x256x256";
  std::string gpus;  ///< --gpus LIST: multi-GPU scaling mode when not empty
  int iters = 5, warmup = 2, slots = 3, gpu = 0;
  bool graphs = false, channels_last = false, fused = false;
};

/// PeakNet config of --model (33m | tiny).
nlohmann::json model_config(const std::string& name);

/// Q1 slot size holding one float32 event of shape s (header page + payload, page multiple).
uint64_t q1_slot_bytes(const Shape& s);

/// The synthetic event every producer writes: an EventHeader (id, shape s, float32) and `frame`
/// (s.c*s.h*s.w floats) as the payload, into a Q1 slot's bytes.
void write_synthetic_event(std::byte* slot, uint64_t id, const Shape& s, const std::vector<float>& frame);

/// The frame those events carry: a fixed non-trivial pattern of s.c*s.h*s.w floats.
std::vector<float> synthetic_frame(const Shape& s);

/// Suite config of one streaming run: rings named after `run`, Q1 of q1_slots slots, inferd on `gpu`
/// with batch s.b, max_wait_ms 1000 (full batches), warm-up on the frame shape, random weights.
nlohmann::json streaming_config(const Options& o, const Shape& s, const std::string& run, int64_t q1_slots, int gpu);

}  // namespace peaknet::bench

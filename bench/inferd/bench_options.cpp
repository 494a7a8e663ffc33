#include "bench_options.hpp"

#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>

#include "model/peaknet_config.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::bench {

std::vector<Shape> parse_shapes(const std::string& text) {
  std::vector<Shape> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    Shape s{};
    if (std::sscanf(item.c_str(), "%ldx%ldx%ldx%ld", &s.b, &s.c, &s.h, &s.w) != 4) {
      throw std::invalid_argument("--shapes: expected BxCxHxW, got " + item);
    }
    out.push_back(s);
  }
  return out;
}

std::vector<int> parse_gpu_list(const std::string& text) {
  std::vector<int> out;
  std::set<int> seen;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int gpu = -1;
    try {
      gpu = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || gpu < 0 || !seen.insert(gpu).second) {
      throw std::invalid_argument("--gpus: expected distinct CUDA device indices like 0,1, got '" + text + "'");
    }
    out.push_back(gpu);
  }
  if (out.empty()) throw std::invalid_argument("--gpus: empty list");
  return out;
}

nlohmann::json model_config(const std::string& name) {
  if (name == "33m") return model::PeakNetConfig::peaknet_33m().to_json();
  if (name == "tiny") return model::PeakNetConfig::tiny().to_json();
  throw std::invalid_argument("--model: 33m | tiny, got " + name);
}

uint64_t q1_slot_bytes(const Shape& s) {
  const uint64_t payload = uint64_t(s.c * s.h * s.w) * 4;
  return (shm::kPayloadOffset + payload + 4095) / 4096 * 4096;
}

nlohmann::json streaming_config(const Options& o, const Shape& s, const std::string& run, int64_t q1_slots, int gpu) {
  return {{"run", {{"name", run}, {"log_level", "warn"}}},
          {"q1", {{"slots", q1_slots}, {"slot_bytes", q1_slot_bytes(s)}}},
          {"q2", {{"slots", 1024}, {"slot_bytes", 131072}}},
          {"writerd", {{"write_frames", false}}},  // inference alone: no frame copies into Q2
          {"inferd",
           {{"device", o.device},
            {"gpu", gpu},
            {"batch_size", s.b},
            {"max_wait_ms", 1000},
            {"pipeline_slots", o.slots},
            {"precision", o.precision},
            {"cuda_graphs", o.graphs},
            {"channels_last", o.channels_last},
            {"cudnn_benchmark", o.device == "cuda"},
            {"warmup_iterations", o.warmup},
            {"warmup_shape", {s.c, s.h, s.w}},
            {"model", {{"config", model_config(o.model)}, {"random_init", true}, {"fused_kernels", o.fused}}}}}};
}

void write_synthetic_event(std::byte* slot, uint64_t id, const Shape& s, const std::vector<float>& frame) {
  shm::EventHeader h{};
  h.event_id = id;
  h.channels = uint32_t(s.c), h.height = uint32_t(s.h), h.width = uint32_t(s.w);
  h.orig_height = h.height, h.orig_width = h.width;
  h.dtype = shm::DType::kF32;
  h.payload_bytes = frame.size() * sizeof(float);
  std::memcpy(slot, &h, sizeof(h));
  std::memcpy(slot + shm::kPayloadOffset, frame.data(), h.payload_bytes);
}

std::vector<float> synthetic_frame(const Shape& s) {
  std::vector<float> frame(size_t(s.c * s.h * s.w));
  for (size_t k = 0; k < frame.size(); ++k) frame[k] = float((k * 2654435761u) % 1000) * 0.1f;
  return frame;
}

}  // namespace peaknet::bench

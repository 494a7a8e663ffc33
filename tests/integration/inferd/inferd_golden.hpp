#pragma once
// Golden tiny PeakNet frames and the direct (library) reference, shared by the CPU and GPU tests.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"
#include "inferd/inferd_service.hpp"
#include "inferd_q2_records.hpp"
#include "inferd_test_events.hpp"
#include "model/inference_model.hpp"
#include "model/safetensors.hpp"
#include "peaks/peak_finder.hpp"

namespace peaknet::inferd::testing {

using nlohmann::json;

inline const std::string kGolden = PEAKNET_GOLDEN_DIR "/model/";

inline json tiny_config() {
  return {{"backbone_hidden_sizes", {24, 48, 96, 192}},
          {"backbone_depths", {1, 1, 2, 1}},
          {"bifpn_num_blocks", 2},
          {"bifpn_num_features", 64},
          {"seg_out_channels", 64},
          {"uses_learned_upsample", false}};
}

inline json suite_json(const ShmRun& run, int batch_size, bool write_frames,
                       const json& inferd_patch = json::object()) {
  json cfg = {{"run", {{"name", run.name()}, {"log_level", "warn"}}},
              {"q1", {{"slots", 16}, {"slot_bytes", 262144}}},
              {"q2", {{"slots", 64}, {"slot_bytes", 524288}}},
              {"peaks", {{"min_num_peak", 3}}},
              {"inferd",
               {{"device", "cpu"},
                {"batch_size", batch_size},
                {"max_wait_ms", 20},
                {"warmup_iterations", 1},
                {"warmup_shape", {1, 32, 32}},
                {"model", {{"config", tiny_config()}, {"weights", kGolden + "tiny.safetensors"}}}}},
              {"writerd", {{"write_frames", write_frames}}}};  // inferd's frame copies follow it
  cfg["inferd"].merge_patch(inferd_patch);
  return cfg;
}

/// Golden frames (2, 1, 160, 224) and variants: scaled copies and a 150x200 crop (needs padding).
struct Frame {
  shm::EventHeader header;
  torch::Tensor pixels;  ///< (C, H, W) float32 contiguous
};
inline std::vector<Frame> make_frames() {
  const auto golden = model::read_safetensors(kGolden + "tiny.golden.safetensors");
  const torch::Tensor input = model::find_tensor(golden, "input", "tiny.golden").contiguous();
  std::vector<Frame> frames;
  for (uint64_t id = 0; id < 7; ++id) {
    torch::Tensor px = input[int64_t(id % 2)].clone() * (1.0f + 0.05f * float(id));
    if (id >= 5) px = px.slice(1, 5, 155).slice(2, 10, 210).contiguous();  // 150 x 200: padded by inferd
    frames.push_back({make_event(100 + id, 1, uint32_t(px.size(1)), uint32_t(px.size(2))), px});
  }
  return frames;
}

/// The model run directly on one event: pad by hand to a multiple of 32, forward alone, crop back to the
/// frame. Float logits (1, C, H, W), contiguous.
inline torch::Tensor reference_logits(model::InferenceModel& m, const Frame& f) {
  c10::InferenceMode guard;
  const int64_t h = f.pixels.size(1), w = f.pixels.size(2);
  const int64_t hp = (h + 31) / 32 * 32, wp = (w + 31) / 32 * 32;
  torch::Tensor x = torch::zeros({1, 1, hp, wp});
  x.index_put_({0, 0, torch::indexing::Slice(0, h), torch::indexing::Slice(0, w)}, f.pixels[0]);
  torch::Tensor logits = m.forward(x).to(torch::kFloat);
  return logits
      .index({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(0, h),
              torch::indexing::Slice(0, w)})
      .contiguous();
}

/// The reference: the model run directly (reference_logits), then the peaks library.
inline peaks::EventPeaks reference_peaks(model::InferenceModel& m, const Frame& f, const peaks::PeakParams& p) {
  c10::InferenceMode guard;
  const int64_t h = f.pixels.size(1), w = f.pixels.size(2);
  torch::Tensor logits = reference_logits(m, f);
  return peaks::find_peaks_from_logits(logits.data_ptr<float>(), {f.pixels.data_ptr<float>(), shm::DType::kF32}, 1,
                                       uint32_t(h), uint32_t(w), p);
}

/// Runs an InferdService in this process over `frames` until Q1 is drained; Q2 records by event id.
inline std::map<uint64_t, Q2Record> run_inferd(const ShmRun& run, const std::vector<Frame>& frames, int batch_size,
                                               bool write_frames, json* stats = nullptr,
                                               const json& inferd_patch = json::object()) {
  const auto cfg = config::parse_suite_config(suite_json(run, batch_size, write_frames, inferd_patch));
  shm::Ring q1 = shm::Ring::open_or_create(ring_options(run.q1(), 16, 262144));
  for (const auto& f : frames) publish_event(q1, f.header, f.pixels.data_ptr<float>());
  q1.finish_producing();
  auto sut = std::make_unique<InferdService>(cfg);
  EXPECT_EQ(sut->run(), 0);  // returns once Q1 is finished and drained
  if (stats) *stats = sut->stats();
  shm::Ring q2 = shm::Ring::attach(run.q2());
  std::map<uint64_t, Q2Record> by_id;
  for (auto& r : drain_q2(q2, std::chrono::milliseconds(200))) by_id[r.header.event_id] = std::move(r);
  return by_id;
}

}  // namespace peaknet::inferd::testing

#pragma once
// CpuBackend: the same semantics as the CUDA pipeline, synchronously on the CPU (CI, demo, machines
// without a GPU). Per batch: copy the pixels out of the Q1 slots (slots released right after, like the
// GPU's H2D), preprocess, forward, crop, mask + peaks (peaks library), publish.
#include <memory>

#include "inferd/backend.hpp"
#include "model/inference_model.hpp"

namespace peaknet::inferd {

class CpuBackend final : public InferenceBackend {
 public:
  CpuBackend(const BackendOptions& options, std::unique_ptr<model::InferenceModel> model, BatchSink& sink);

  std::string device_name() const override { return "cpu"; }
  void warm_up(const FrameShape& shape, uint32_t batch_size, uint32_t iterations) override;
  void submit(Batch&& batch) override;
  void poll() override {}
  void flush() override {}
  void swap_model(std::unique_ptr<model::InferenceModel> next) override;
  size_t in_flight() const override { return 0; }
  nlohmann::json describe() const override;

 private:
  /// Runs one batch of float frames (B, C, H, W) through preprocess/forward/postprocess.
  CompletedBatch run(const torch::Tensor& frames_bytes, Batch&& batch);

  BackendOptions options_;
  std::unique_ptr<model::InferenceModel> model_;
  model::Precision precision_;
  BatchSink& sink_;
  torch::Tensor staging_;  ///< uint8, max_batch_size * max_payload_bytes (reused)
};

}  // namespace peaknet::inferd

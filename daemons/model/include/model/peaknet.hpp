#pragma once
// PeakNet: the LibTorch C++ port of upstream PeakNet (HF ConvNextV2Backbone + BiFPN + FPN seg head).
// The module tree registers exactly the upstream state_dict keys (see shared reference peaknet-model.md
// §3.3), in the upstream order, so checkpoints load by name. Numerics follow upstream op for op:
// eps values, GRN formula, fp32 interpolation, masked-ReLU fusion weights, head sum order.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "model/inference_model.hpp"
#include "model/peaknet_config.hpp"

namespace peaknet::model {

/// Intermediate outputs for parity tests: the 4 backbone feature maps (after hidden_states_norms),
/// the 4 BiFPN outputs (strides 4..32) and the logits.
struct PeakNetOutputs {
  std::vector<torch::Tensor> backbone;
  std::vector<torch::Tensor> bifpn;
  torch::Tensor logits;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class PeakNet {
 public:
  /// Allocates uninitialised parameters on `device` (torch::kMeta: shapes only, no memory).
  explicit PeakNet(const PeakNetConfig& config, torch::Device device = torch::kCPU);
  ~PeakNet();
  PeakNet(const PeakNet&) = delete;
  PeakNet& operator=(const PeakNet&) = delete;

  const PeakNetConfig& config() const;
  /// Parameters and buffers under their upstream state_dict keys, in upstream state_dict order.
  /// The tensors alias the model's storage (copy_ into them to load weights).
  NamedTensors state_dict() const;
  int64_t num_parameters() const;

  /// Upstream-like init (normal/kaiming weights, zero biases, unit norms, zero GRN, unit fusion weights).
  void random_init(uint64_t seed);
  /// Moves to `device`; convolution/linear weights to the compute dtype, everything else stays fp32.
  void to(torch::Device device, Precision precision, bool channels_last);
  torch::Device device() const;
  Precision precision() const;

  /// Throws std::invalid_argument unless x is (B, num_channels, H, W) floating with H, W % 32 == 0.
  void check_input(const torch::Tensor& x) const;
  torch::Tensor forward(const torch::Tensor& x);
  /// Opt-in fused CUDA kernels for CUDA fp32/bf16 forwards (ConvNeXt: dwconv7x7+LayerNorm, GELU+GRN;
  /// BiFPN: resample+fusion+depthwise scale, LayerNorm+GELU+residual; backbone LayerNorms emitting their
  /// consumer's dtype — docs/fused_kernels.md). CPU and other inputs keep the unfused ops. Off by default
  /// (golden parity is defined on the unfused path). With it on, forward_with_intermediates' backbone
  /// features are in the adapter conv's dtype.
  void set_fused_kernels(bool enabled);
  bool fused_kernels() const;
  PeakNetOutputs forward_with_intermediates(const torch::Tensor& x);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peaknet::model

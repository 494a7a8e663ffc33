#pragma once
// What PeakNet::to() and set_fused_kernels() act on, filled by the modules themselves: Conv and Linear add
// their weights here as they register them, so to() casts every one (a weight it missed would silently stay
// fp32: Conv casts its input to its weight's dtype), and every module reads the fused-kernels switch from
// here at forward time, so set_fused_kernels() reaches all of them. One per model, owned by PeakNet::Impl;
// modules keep a pointer to it (Impl lives behind a unique_ptr and never moves).
#include <vector>

#include <torch/torch.h>

namespace peaknet::model {

class ModuleRegistry {
 public:
  /// A convolution/linear weight and its bias (undefined for bias-free convs): these run in the compute
  /// dtype (autocast's rule); every other floating tensor of the model stays fp32.
  struct ComputeWeight {
    torch::Tensor weight, bias;
  };

  ModuleRegistry() = default;
  ModuleRegistry(const ModuleRegistry&) = delete;
  ModuleRegistry& operator=(const ModuleRegistry&) = delete;

  /// The handles share the module's tensors: set_data() on them changes the module's parameters.
  void add_compute_weight(const torch::Tensor& weight, const torch::Tensor& bias) {
    compute_weights_.push_back({weight, bias});
  }
  const std::vector<ComputeWeight>& compute_weights() const { return compute_weights_; }

  bool fused_kernels() const { return fused_kernels_; }
  void set_fused_kernels(bool enabled) { fused_kernels_ = enabled; }

 private:
  std::vector<ComputeWeight> compute_weights_;
  bool fused_kernels_ = false;
};

}  // namespace peaknet::model

#pragma once
// The building blocks of the PeakNet module tree (internal): parameters registered under their upstream
// state_dict names, and conv / linear / norm / resampling with CUDA autocast's dtype rules made explicit.
#include <memory>
#include <string>

#include <torch/torch.h>

#include "module_registry.hpp"

namespace peaknet::model::modules {

using torch::Tensor;
using Node = torch::nn::Module;
using NodePtr = std::shared_ptr<Node>;

// Fixed by upstream code (not configuration).
constexpr double kGroupNormEps = 1e-5;
constexpr int64_t kGroupNormGroups = 32;

/// What every module constructor needs: the device its parameters live on and the model's registry.
struct Build {
  ModuleRegistry& registry;
  torch::Device device;
};

NodePtr add_child(Node& parent, const std::string& name);
/// An uninitialised parameter (no grad) of `node` on `device`.
Tensor param(Node& node, const std::string& name, torch::IntArrayRef shape, torch::Device device);

// Convolution (also 1x1 "Linear on NCHW"), transposed or not; registers its weight (and bias) as compute
// weights. Inputs are cast to the weight dtype: autocast's rule for conv/linear, made explicit.
struct Conv {
  Tensor weight, bias;
  int64_t stride = 1, padding = 0, groups = 1;
  bool transposed = false;

  Conv() = default;  // absent (weight undefined), e.g. the head's learned upsample when the config has none
  Conv(Node& node, const Build& build, int64_t in, int64_t out, int64_t kernel, bool with_bias = true,
       int64_t groups_ = 1, int64_t stride_ = 1, int64_t padding_ = 0, bool transposed_ = false);
  Tensor operator()(const Tensor& x) const;
};

// Linear over the last dim; registers its weight and bias as compute weights.
struct Linear {
  Tensor weight, bias;
  Linear() = default;
  Linear(Node& node, const Build& build, int64_t in, int64_t out);
  Tensor operator()(const Tensor& x) const { return at::linear(x.to(weight.scalar_type()), weight, bias); }
};

// LayerNorm over the last dim (channels_last data); fp32 as under autocast.
struct LayerNorm {
  Tensor weight, bias;
  double eps = 1e-6;
  LayerNorm() = default;
  LayerNorm(Node& node, const Build& build, int64_t c, double eps_);
  Tensor last_dim(const Tensor& x) const {
    return at::layer_norm(x.to(torch::kFloat), {weight.size(0)}, weight, bias, eps);
  }
  // channels_first: permute -> layer_norm -> permute back (HF ConvNextV2LayerNorm, BiFPNLayerNorm).
  Tensor channels_first(const Tensor& x) const { return last_dim(x.permute({0, 2, 3, 1})).permute({0, 3, 1, 2}); }
  // Through the fused kernel when enabled and supported, stored as out_dtype: the dtype the consumer
  // casts to anyway (a conv's weight dtype), so the cast is free and exact.
  // An NCHW-strided CUDA input (the stem conv's output: a C=1 input leaves cuDNN in NCHW) is made
  // channels_last first — one bf16 copy, cheaper than the unfused path's strided fp32 passes.
  Tensor channels_first(const Tensor& x, bool fused, torch::ScalarType out_dtype) const;
};

// GroupNorm(32 groups, eps 1e-5) in fp32 as under autocast.
struct GroupNorm {
  Tensor weight, bias;
  GroupNorm() = default;
  GroupNorm(Node& node, const Build& build, int64_t c);
  Tensor operator()(const Tensor& x) const {
    return at::group_norm(x.to(torch::kFloat), kGroupNormGroups, weight, bias, kGroupNormEps);
  }
};

/// Bilinear resampling computed in fp32 and cast back (upstream's explicit casts).
Tensor resample(const Tensor& x, double scale);

}  // namespace peaknet::model::modules

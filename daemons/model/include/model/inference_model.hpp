#pragma once
// InferenceModel: what inferd (and peaknet-infer, bench_model_forward) run. Two backends behind one
// interface: "native" (the LibTorch C++ port of PeakNet, weights by upstream state_dict key) and
// "torchscript" (a torch.jit module file). One instance per device; not thread-safe.
#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "model/peaknet_config.hpp"

namespace peaknet::model {

/// Compute precision. kBf16/kFp16 follow CUDA autocast's policy with explicit casts: convolutions and
/// linears in the low precision, norms/GRN/fusion weights/upsampling in fp32 (as upstream under autocast).
enum class Precision { kFp32, kBf16, kFp16 };
/// "fp32" | "bf16" | "fp16" (also "float32", "bfloat16", "float16"); else std::invalid_argument.
Precision parse_precision(const std::string& text);
std::string to_string(Precision precision);
/// The dtype convolutions run in (kFloat, kBFloat16, kHalf).
torch::ScalarType compute_dtype(Precision precision);

struct ModelSpec {
  nlohmann::json config;           // PeakNetConfig keys (native); may be empty for torchscript
  std::string weights;             // .safetensors | torch.save state_dict (.pt/.pth) | TorchScript file
  std::string backend = "native";  // "native" | "torchscript"
  bool random_init = false;        // only for benchmarks/demos: no weights file is read
  uint64_t seed = 0;               // random_init seed
  bool fused_kernels = false;      // native: fused CUDA kernels (PeakNet::set_fused_kernels)
};

class InferenceModel {
 public:
  virtual ~InferenceModel() = default;
  /// Moves weights to `device` and prepares `precision`; channels_last uses NHWC memory format.
  virtual void to(torch::Device device, Precision precision, bool channels_last) = 0;
  /// (B,C,H,W) float on the model's device, H and W multiples of 32 -> logits (B,num_classes,H,W) in the
  /// compute dtype (callers compare logit1 > logit0). Runs under inference mode. Throws
  /// std::invalid_argument for a bad input shape.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual const PeakNetConfig& config() const = 0;
};

/// Builds the backend named by spec.backend and loads its weights. Throws std::runtime_error (or
/// std::invalid_argument for a bad config) with a message naming the file/key at fault.
std::unique_ptr<InferenceModel> load_model(const ModelSpec& spec);

}  // namespace peaknet::model

#include "model/inference_model.hpp"

#include <filesystem>
#include <stdexcept>

#include <torch/script.h>

#include "model/peaknet.hpp"
#include "model/weights.hpp"

namespace peaknet::model {

Precision parse_precision(const std::string& text) {
  if (text == "fp32" || text == "float32") return Precision::kFp32;
  if (text == "bf16" || text == "bfloat16") return Precision::kBf16;
  if (text == "fp16" || text == "float16") return Precision::kFp16;
  throw std::invalid_argument("precision: expected fp32, bf16 or fp16, got '" + text + "'");
}

std::string to_string(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
  }
  return "?";
}

torch::ScalarType compute_dtype(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return torch::kFloat;
    case Precision::kBf16:
      return torch::kBFloat16;
    case Precision::kFp16:
      return torch::kHalf;
  }
  return torch::kFloat;
}

namespace {

class NativeModel final : public InferenceModel {
 public:
  explicit NativeModel(const PeakNetConfig& config) : net_(config) {}
  PeakNet& net() { return net_; }
  void to(torch::Device device, Precision precision, bool channels_last) override {
    net_.to(device, precision, channels_last);
  }
  torch::Tensor forward(const torch::Tensor& x) override { return net_.forward(x); }
  const PeakNetConfig& config() const override { return net_.config(); }

 private:
  PeakNet net_;
};

// A torch.jit module file (e.g. a trace of upstream PeakNet). Low precision casts the whole module (no
// fp32 islands: a trace freezes upstream's dtype casts), so fp32 is the faithful mode for this backend.
class TorchScriptModel final : public InferenceModel {
 public:
  TorchScriptModel(const std::string& path, PeakNetConfig config) : config_(std::move(config)) {
    try {
      module_ = torch::jit::load(path, torch::kCPU);
    } catch (const std::exception& e) {
      throw std::runtime_error("TorchScript file '" + path + "' cannot be loaded: " + first_line(e.what()));
    }
    module_.eval();
  }
  void to(torch::Device device, Precision precision, bool channels_last) override {
    dtype_ = compute_dtype(precision);
    module_.to(device, dtype_);
    device_ = device;
    channels_last_ = channels_last;
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    if (x.dim() != 4 || x.size(1) != config_.num_channels || x.size(2) % 32 != 0 || x.size(3) % 32 != 0 ||
        x.size(2) == 0 || x.size(3) == 0)
      throw std::invalid_argument("TorchScript model input: expected (B, " + std::to_string(config_.num_channels) +
                                  ", H, W) with H, W multiples of 32, got " + c10::str(x.sizes()));
    c10::InferenceMode guard;
    torch::Tensor in = x.to(device_, dtype_);
    if (channels_last_) in = in.contiguous(at::MemoryFormat::ChannelsLast);
    return module_.forward({in}).toTensor();
  }
  const PeakNetConfig& config() const override { return config_; }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  torch::jit::Module module_;
  PeakNetConfig config_;
  torch::Device device_{torch::kCPU};
  torch::ScalarType dtype_ = torch::kFloat;
  bool channels_last_ = false;
};

}  // namespace

std::unique_ptr<InferenceModel> load_model(const ModelSpec& spec) {
  const PeakNetConfig config =
      spec.config.is_null() || spec.config.empty() ? PeakNetConfig{} : PeakNetConfig::from_json(spec.config);
  if (spec.backend == "torchscript") {
    if (spec.weights.empty()) throw std::runtime_error("model: the torchscript backend needs a module file (weights)");
    if (!std::filesystem::is_regular_file(spec.weights))
      throw std::runtime_error("model: TorchScript file '" + spec.weights + "' does not exist");
    return std::make_unique<TorchScriptModel>(spec.weights, config);
  }
  if (spec.backend != "native")
    throw std::runtime_error("model: backend must be 'native' or 'torchscript', got '" + spec.backend + "'");
  auto model = std::make_unique<NativeModel>(config);
  model->net().set_fused_kernels(spec.fused_kernels);
  if (spec.random_init) {
    model->net().random_init(spec.seed);
  } else {
    if (spec.weights.empty())
      throw std::runtime_error("model: no weights file given (random init is only for benchmarks and demos)");
    load_weights(model->net(), spec.weights);
  }
  return model;
}

}  // namespace peaknet::model

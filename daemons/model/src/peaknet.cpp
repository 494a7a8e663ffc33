// PeakNet::Impl assembles the module tree from its parts (convnext_backbone, bifpn, seg_head, built from
// primitives); PeakNet's casts and switches act on the ModuleRegistry the parts fill.
#include "model/peaknet.hpp"

#include <cmath>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

#include "bifpn.hpp"
#include "convnext_backbone.hpp"
#include "model/op_profiler.hpp"
#include "module_registry.hpp"
#include "primitives.hpp"
#include "seg_head.hpp"

namespace peaknet::model {

using modules::add_child;
using modules::BifpnBlock;
using modules::Build;
using modules::Conv;
using modules::ConvNextBackbone;
using modules::Node;
using modules::SegHead;
using torch::Tensor;

// The module tree: members in upstream registration order (= state_dict order), each registering its
// children under `root` as it is built. The modules add their compute weights to `registry` and read its
// fused-kernels switch (module_registry.hpp).
struct PeakNet::Impl {
  PeakNetConfig config;
  torch::Device device;
  ModuleRegistry registry;  // before the modules: they keep a pointer to it
  std::shared_ptr<Node> root = std::make_shared<Node>();
  ConvNextBackbone backbone;
  std::vector<Conv> backbone_to_bifpn;  // 1x1 convs: backbone widths -> bifpn_num_features
  std::vector<BifpnBlock> bifpn;
  SegHead head;
  Precision precision = Precision::kFp32;
  bool channels_last = false;

  Impl(const PeakNetConfig& c, torch::Device dev)
      : config(validated(c)),
        device(dev),
        backbone(*add_child(*root, "backbone"), build(), config),
        backbone_to_bifpn(make_adapters(*root, build(), config)),
        bifpn(make_bifpn(*root, build(), config)),
        head(*root, build(), config) {}

  static const PeakNetConfig& validated(const PeakNetConfig& c) {
    validate(c);
    return c;
  }
  Build build() { return Build{registry, device}; }
  static std::vector<Conv> make_adapters(Node& root, const Build& b, const PeakNetConfig& c) {
    std::vector<Conv> adapters;
    auto node = add_child(root, "backbone_to_bifpn");
    for (size_t s = 0; s < 4; ++s)
      adapters.emplace_back(*add_child(*node, std::to_string(s)), b, c.backbone_hidden_sizes[s], c.bifpn_num_features,
                            1);
    return adapters;
  }
  static std::vector<BifpnBlock> make_bifpn(Node& root, const Build& b, const PeakNetConfig& c) {
    std::vector<BifpnBlock> blocks;
    auto node = add_child(*add_child(root, "bifpn"), "blocks");
    for (int64_t i = 0; i < c.bifpn_num_blocks; ++i)
      blocks.emplace_back(*add_child(*node, std::to_string(i)), b, c.bifpn_num_features);
    return blocks;
  }

  PeakNetOutputs run(const Tensor& input, bool keep_intermediates) const {
    PeakNetOutputs out;
    Tensor x = input;
    if (channels_last) {
      x = x.contiguous(at::MemoryFormat::ChannelsLast);
      op_lap("input.channels_last", input, x);
    }
    // The fused backbone norms store each feature map in the dtype its adapter conv casts it to.
    std::vector<torch::ScalarType> feature_dtypes;
    for (const auto& adapter : backbone_to_bifpn) feature_dtypes.push_back(adapter.weight.scalar_type());
    std::vector<Tensor> feats = backbone(x, feature_dtypes);
    std::vector<Tensor> pyramid;
    for (size_t s = 0; s < 4; ++s) {
      pyramid.push_back(backbone_to_bifpn[s](feats[s]));
      op_lap("bifpn.adapter_conv1x1", feats[s], pyramid.back());
    }
    for (const auto& block : bifpn) pyramid = block(pyramid);
    out.logits = head(pyramid);
    if (keep_intermediates) {
      out.backbone = std::move(feats);
      out.bifpn = std::move(pyramid);
    }
    return out;
  }
};

PeakNet::PeakNet(const PeakNetConfig& config, torch::Device device) : impl_(std::make_unique<Impl>(config, device)) {}
PeakNet::~PeakNet() = default;

const PeakNetConfig& PeakNet::config() const { return impl_->config; }
torch::Device PeakNet::device() const { return impl_->device; }
Precision PeakNet::precision() const { return impl_->precision; }

NamedTensors PeakNet::state_dict() const {
  // Python's state_dict order: each module's own parameters, then its buffers, then its children.
  NamedTensors out;
  for (const auto& item : impl_->root->named_modules("", /*include_self=*/true)) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

int64_t PeakNet::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->root->parameters()) n += p.numel();
  return n;
}

void PeakNet::random_init(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, t] : state_dict()) {
    const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    Tensor value = torch::empty(t.sizes(), torch::TensorOptions().dtype(t.scalar_type()));
    if (name.find("w_q_mask") != std::string::npos) {
      value.fill_(true);
      value[2][0] = false;
    } else if (name.find(".w_m") != std::string::npos || name.find(".w_q") != std::string::npos) {
      value.fill_(1.0);
    } else if (name.find(".grn.") != std::string::npos || is_bias) {
      value.zero_();
    } else if (t.dim() == 1) {  // norm weights
      value.fill_(1.0);
    } else {  // conv / linear weights: fan-in scaled normal keeps activations bounded
      const double fan_in = static_cast<double>(t.numel() / t.size(0));
      value.normal_(0.0, 1.0 / std::sqrt(fan_in), gen);
    }
    t.copy_(value);
  }
}

void PeakNet::to(torch::Device device, Precision precision, bool channels_last) {
  torch::NoGradGuard no_grad;
  const torch::ScalarType low = compute_dtype(precision);
  // Convolution/linear weights in the compute dtype; every other tensor fp32 (bool mask stays bool).
  for (auto& [name, t] : state_dict()) {
    if (t.scalar_type() == torch::kBool) t.set_data(t.to(device));
    else t.set_data(t.to(device, torch::kFloat));
  }
  for (const auto& [weight, bias] : impl_->registry.compute_weights()) {
    const auto fmt = channels_last && weight.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    Tensor w = weight, b = bias;
    w.set_data(w.to(device, low).contiguous(fmt));
    if (b.defined()) b.set_data(b.to(device, low));
  }
  impl_->device = device;
  impl_->precision = precision;
  impl_->channels_last = channels_last;
}

void PeakNet::check_input(const torch::Tensor& x) const {
  const auto shape = [&] { return std::string(c10::str(x.sizes())); };
  if (!x.defined()) throw std::invalid_argument("PeakNet input: undefined tensor");
  if (x.dim() != 4) throw std::invalid_argument("PeakNet input: expected (B, C, H, W), got shape " + shape());
  if (x.size(1) != impl_->config.num_channels)
    throw std::invalid_argument("PeakNet input: expected C = " + std::to_string(impl_->config.num_channels) +
                                " channels, got shape " + shape());
  if (x.size(0) < 1 || x.size(2) < 32 || x.size(3) < 32 || x.size(2) % 32 != 0 || x.size(3) % 32 != 0)
    throw std::invalid_argument("PeakNet input: H and W must be positive multiples of 32 (pad the frame), got shape " +
                                shape());
  if (!x.is_floating_point())
    throw std::invalid_argument(std::string("PeakNet input: expected a floating tensor, got ") +
                                std::string(c10::toString(x.scalar_type())));
  // "cuda" (no index) means the current device: compare the index only when the model has one.
  if (x.device().type() != impl_->device.type() ||
      (impl_->device.has_index() && x.device().index() != impl_->device.index()))
    throw std::invalid_argument("PeakNet input: tensor is on " + x.device().str() + ", model on " +
                                impl_->device.str());
}

torch::Tensor PeakNet::forward(const torch::Tensor& x) {
  check_input(x);
  c10::InferenceMode guard;
  return impl_->run(x, false).logits;
}

void PeakNet::set_fused_kernels(bool enabled) { impl_->registry.set_fused_kernels(enabled); }

bool PeakNet::fused_kernels() const { return impl_->registry.fused_kernels(); }

PeakNetOutputs PeakNet::forward_with_intermediates(const torch::Tensor& x) {
  check_input(x);
  c10::InferenceMode guard;
  return impl_->run(x, true);
}

}  // namespace peaknet::model

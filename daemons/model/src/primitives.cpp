#include "primitives.hpp"

#include <cmath>

#include "cuda/fused_kernels.hpp"

namespace peaknet::model::modules {

NodePtr add_child(Node& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<Node>());
}

Tensor param(Node& node, const std::string& name, torch::IntArrayRef shape, torch::Device device) {
  return node.register_parameter(name, torch::empty(shape, torch::TensorOptions().device(device)),
                                 /*requires_grad=*/false);
}

Conv::Conv(Node& node, const Build& build, int64_t in, int64_t out, int64_t kernel, bool with_bias, int64_t groups_,
           int64_t stride_, int64_t padding_, bool transposed_)
    : stride(stride_), padding(padding_), groups(groups_), transposed(transposed_) {
  weight = transposed ? param(node, "weight", {in, out / groups, kernel, kernel}, build.device)
                      : param(node, "weight", {out, in / groups, kernel, kernel}, build.device);
  if (with_bias) bias = param(node, "bias", {out}, build.device);
  build.registry.add_compute_weight(weight, bias);
}

Tensor Conv::operator()(const Tensor& x) const {
  const Tensor in = x.to(weight.scalar_type());
  const Tensor b = bias.defined() ? bias.to(weight.scalar_type()) : bias;
  if (transposed) return at::conv_transpose2d(in, weight, b, {stride, stride}, {padding, padding});
  return at::conv2d(in, weight, b, {stride, stride}, {padding, padding}, {1, 1}, groups);
}

Linear::Linear(Node& node, const Build& build, int64_t in, int64_t out)
    : weight(param(node, "weight", {out, in}, build.device)), bias(param(node, "bias", {out}, build.device)) {
  build.registry.add_compute_weight(weight, bias);
}

LayerNorm::LayerNorm(Node& node, const Build& build, int64_t c, double eps_)
    : weight(param(node, "weight", {c}, build.device)), bias(param(node, "bias", {c}, build.device)), eps(eps_) {}

Tensor LayerNorm::channels_first(const Tensor& x, bool fused, torch::ScalarType out_dtype) const {
  if (fused && x.is_cuda() && x.dim() == 4) {
    const Tensor cl = x.contiguous(at::MemoryFormat::ChannelsLast);
    if (fused_layernorm_channels_first_supports(cl, Tensor()))
      return fused_layernorm_channels_first(cl, weight, bias, eps, /*gelu=*/false, Tensor(), out_dtype);
  }
  return channels_first(x);
}

GroupNorm::GroupNorm(Node& node, const Build& build, int64_t c)
    : weight(param(node, "weight", {c}, build.device)), bias(param(node, "bias", {c}, build.device)) {}

Tensor resample(const Tensor& x, double scale) {
  const auto h = static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scale));
  const auto w = static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scale));
  return at::upsample_bilinear2d(x.to(torch::kFloat), {h, w}, /*align_corners=*/false, scale, scale)
      .to(x.scalar_type());
}

}  // namespace peaknet::model::modules

#include "model/flop_count.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace peaknet::model {

ForwardFlops forward_flops(const PeakNetConfig& c, int64_t height, int64_t width) {
  if (height < 32 || width < 32 || height % 32 != 0 || width % 32 != 0)
    throw std::invalid_argument("forward_flops: height and width must be positive multiples of 32, got " +
                                std::to_string(height) + "x" + std::to_string(width));
  validate(c);
  // Pixels of the grid at stride 4 * 2^level (level 0 = stride 4 ... 3 = stride 32).
  const auto grid = [&](int level) {
    const int64_t stride = int64_t{4} << level;
    return static_cast<double>(height / stride) * static_cast<double>(width / stride);
  };
  const auto& hs = c.backbone_hidden_sizes;
  const double f = static_cast<double>(c.bifpn_num_features), oc = static_cast<double>(c.seg_out_channels);
  const double classes = static_cast<double>(c.num_classes);
  ForwardFlops out;
  constexpr double kFlopPerMac = 2.0;
  out.stem = kFlopPerMac * static_cast<double>(c.num_channels) * 16.0 * static_cast<double>(hs[0]) * grid(0);
  for (int s = 0; s < 4; ++s) {
    const double ch = static_cast<double>(hs[static_cast<size_t>(s)]);
    const double depth = static_cast<double>(c.backbone_depths[static_cast<size_t>(s)]);
    const double pw = 8.0 * ch * ch;   // pwconv1 (C -> 4C) + pwconv2 (4C -> C) per pixel
    const double dw = 49.0 * ch;       // depthwise 7x7
    out.pwconv += kFlopPerMac * depth * pw * grid(s);
    out.convnext_layers += kFlopPerMac * depth * (pw + dw) * grid(s);
    if (s > 0)  // LayerNorm + 2x2 stride-2 conv from the previous width
      out.downsample += kFlopPerMac * static_cast<double>(hs[static_cast<size_t>(s) - 1]) * ch * 4.0 * grid(s);
    out.adapters += kFlopPerMac * ch * f * grid(s);  // backbone_to_bifpn 1x1
  }
  // Per BiFPN block: units m4, m5, m6, q5, q6, q7, each depthwise 1x1 (F) + pointwise 1x1 (F^2).
  const double unit = f + f * f;
  const double unit_pixels = grid(0) + grid(1) + grid(2) + grid(1) + grid(2) + grid(3);
  out.bifpn = kFlopPerMac * static_cast<double>(c.bifpn_num_blocks) * unit * unit_pixels;
  // Head: lateral branch i has max(i, 1) 3x3 units; unit k runs at level i - k (each is followed by a 2x
  // upsample); the first unit reads the F BiFPN channels, the others seg_out_channels.
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < std::max(i, 1); ++k)
      out.head += kFlopPerMac * (k == 0 ? f : oc) * oc * 9.0 * grid(i - k);
  out.head += kFlopPerMac * oc * classes * grid(0);  // head_segmask 1x1
  if (c.uses_learned_upsample)  // ConvTranspose2d(oc -> classes, k6, s4): each input pixel feeds 6x6 outputs
    out.head += kFlopPerMac * oc * classes * 36.0 * grid(0);
  return out;
}

}  // namespace peaknet::model

#pragma once
// FLOP count of one PeakNet forward from its config: 2 x the multiply-accumulates of every convolution and
// linear layer (stem, ConvNeXt layers, downsampling, adapters, BiFPN depthwise + pointwise, head 3x3 convs,
// segmask 1x1, learned upsample). Norms, GELU, GRN, resampling and adds are left out (a few % of the work;
// the shared reference peaknet-model.md §2.2 counts the same way: 1.288 TFLOP per 1920^2 frame for the 33M).
// The benches divide it by the measured time for the achieved TFLOP/s.
#include <cstdint>

#include "model/peaknet_config.hpp"

namespace peaknet::model {

struct ForwardFlops {
  double stem = 0, convnext_layers = 0, downsample = 0, adapters = 0, bifpn = 0, head = 0;
  double pwconv = 0;  // the part of convnext_layers in pwconv1 + pwconv2 (the big GEMMs)
  double total() const { return stem + convnext_layers + downsample + adapters + bifpn + head; }
};

/// FLOP of one (num_channels, height, width) frame; height and width must be positive multiples of 32
/// (std::invalid_argument otherwise, naming the value).
ForwardFlops forward_flops(const PeakNetConfig& config, int64_t height, int64_t width);

}  // namespace peaknet::model

#include "tensor_ops.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace peaknet::inferd {

Padding padding_for(uint32_t height, uint32_t width, uint32_t multiple) {
  auto up = [multiple](uint32_t v) { return (v + multiple - 1) / multiple * multiple - v; };
  return Padding{up(height), up(width)};
}

torch::Tensor frames_to_float(const torch::Tensor& bytes, const FrameShape& shape, int64_t batch) {
  const std::vector<int64_t> dims{batch, shape.channels, shape.height, shape.width};
  // Reinterpret the raw bytes in a same-width signed/float type, then widen.
  auto as = [&](torch::ScalarType t) { return bytes.view(t).view(dims); };
  switch (shape.dtype) {
    case shm::DType::kU8:
      return as(torch::kByte).to(torch::kFloat);
    case shm::DType::kI8:
      return as(torch::kChar).to(torch::kFloat);
    case shm::DType::kI16:
      return as(torch::kShort).to(torch::kFloat);
    case shm::DType::kU16:
      return as(torch::kShort).to(torch::kInt).bitwise_and(0xFFFF).to(torch::kFloat);
    case shm::DType::kI32:
      return as(torch::kInt).to(torch::kFloat);
    case shm::DType::kU32:
      return as(torch::kInt).to(torch::kLong).bitwise_and(int64_t{0xFFFFFFFF}).to(torch::kFloat);
    case shm::DType::kI64:
      return as(torch::kLong).to(torch::kFloat);
    case shm::DType::kU64:
      return as(torch::kLong)
          .to(torch::kDouble)
          .remainder(18446744073709551616.0)
          .to(torch::kFloat);  // values >= 2^63 wrap negative; remainder restores them
    case shm::DType::kF32:
      return as(torch::kFloat);
    case shm::DType::kF64:
      return as(torch::kDouble).to(torch::kFloat);
  }
  throw std::invalid_argument(fmt::format("frame dtype code {} is not supported", static_cast<int>(shape.dtype)));
}

torch::Tensor make_model_input(const torch::Tensor& frames, Padding pad, bool instance_norm) {
  const int64_t b = frames.size(0), c = frames.size(1), h = frames.size(2), w = frames.size(3);
  torch::Tensor x = frames.reshape({b * c, 1, h, w});
  if (pad.bottom != 0 || pad.right != 0) {
    x = torch::constant_pad_nd(x, {0, int64_t(pad.right), 0, int64_t(pad.bottom)}, 0.0);
  }
  if (instance_norm) {
    const auto var_mean = torch::var_mean(x, {2, 3}, /*unbiased=*/false, /*keepdim=*/true);
    x = (x - std::get<1>(var_mean)) / torch::sqrt(std::get<0>(var_mean) + 1e-6);
  }
  return x.contiguous();
}

torch::Tensor crop_logits(const torch::Tensor& logits, const FrameShape& shape, int64_t batch) {
  torch::Tensor cropped = logits.slice(2, 0, shape.height).slice(3, 0, shape.width);
  return cropped.to(torch::kFloat)
      .contiguous()
      .view({batch, int64_t(shape.channels), logits.size(1), int64_t(shape.height), int64_t(shape.width)});
}

}  // namespace peaknet::inferd

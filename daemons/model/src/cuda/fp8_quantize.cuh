#pragma once
// Raw CUDA launcher behind fp8_gemm.hpp (torch-free): row-wise dynamic quantisation of a bf16 activation
// matrix to float8 e4m3 for the fp8 GEMMs, optionally scaling channels per image first (GRN folded into the
// activations of pwconv2).
#include <cstdint>

#include <cuda_runtime.h>

namespace peaknet::model::cuda {

constexpr float kFp8E4m3Max = 448.0f;  // largest finite float8 e4m3fn value

struct Fp8QuantizeArgs {
  const void* x = nullptr;             // (rows, cols) bf16, row-major, 16-byte aligned
  int64_t rows = 0, cols = 0;          // cols % 16 == 0 (the fp8 GEMM's K)
  const float* channel_scale = nullptr;  // optional (rows / rows_per_image, cols) fp32: x[r][c] * channel_scale[r / rows_per_image][c]
  int64_t rows_per_image = 0;          // with channel_scale: rows of one image (H*W), divides rows
  void* q = nullptr;                   // (rows, cols) float8 e4m3fn bytes, 16-byte aligned
  float* scale = nullptr;              // (rows) fp32: v ~= q * scale, scale = amax(|v| of the row) / 448 (1 for a zero row)
};

/// v = x [* channel_scale] in fp32; per row: scale = amax|v| / 448, q = e4m3(v / scale) rounded to nearest,
/// saturated at +-448. cudaErrorInvalidValue for arguments outside the contract above.
cudaError_t launch_fp8_rowwise_quantize(const Fp8QuantizeArgs& args, cudaStream_t stream);

}  // namespace peaknet::model::cuda

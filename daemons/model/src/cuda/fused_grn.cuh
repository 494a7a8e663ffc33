#pragma once
// Raw CUDA launchers behind fused_grn.hpp (no torch here, so this compiles with nvcc alone).
// Layout: x is (N, HW, C) contiguous, i.e. a channels_last (N,H,W,C) activation map.
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

struct GrnShape {
  int64_t batch = 0;     // N
  int64_t pixels = 0;    // H*W
  int64_t channels = 0;  // C
};

/// Row chunks the statistics pass splits H*W into (partials holds batch*chunks*channels floats).
int64_t grn_stat_chunks(const GrnShape& shape, ElementType type);

/// Pass 1: partials[n][chunk][c] = sum over the chunk's pixels of v^2 (fp32), v = x or GELU(x) rounded
/// to x's type (what the unfused forward's at::gelu stores).
/// gelu_out (optional, may equal x): also store v there (only where grn_statistics_stores_gelu).
cudaError_t launch_grn_statistics(const void* x, ElementType type, bool apply_gelu, const GrnShape& shape,
                                  int64_t chunks, float* partials, cudaStream_t stream, void* gelu_out = nullptr);
/// Whether the statistics pass can store GELU(x) (the 16-byte vector variant applies).
bool grn_statistics_stores_gelu(const void* x, ElementType type, const GrnShape& shape);

/// Pass 2: scale[n][c] = Gx / (mean_c Gx + eps), Gx = sqrt(sum over chunks of partials).
cudaError_t launch_grn_scale(const float* partials, const GrnShape& shape, int64_t chunks, double eps, float* scale,
                             cudaStream_t stream);

/// Pass 3: y = gamma*(v*scale) + beta + v, evaluated in fp32 in that order (one rounding per op, as the
/// unfused torch ops), then stored as out_type. gamma/beta are fp32 (C).
cudaError_t launch_grn_apply(const void* x, ElementType type, bool apply_gelu, const GrnShape& shape,
                             const float* scale, const float* gamma, const float* beta, void* y, ElementType out_type,
                             cudaStream_t stream);

}  // namespace peaknet::model::cuda

#pragma once
// Raw CUDA launchers behind fused_group_norm_gelu (torch-free): GroupNorm over a channels_last map
// followed by GELU, as the head's Conv3x3 -> GroupNorm -> GELU units run it. Three launches: per-chunk
// channel sums, per-(n, group) mean/rstd, one elementwise pass.
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

struct GroupNormShape {
  int64_t batch = 0, pixels = 0, channels = 0, groups = 0;  // x is (N, H*W, C) contiguous
};

/// Channels one thread reads with a 16-byte load (8 bf16 or 4 fp32); C must be a multiple of it and
/// C / vector at most 256.
int64_t group_norm_vector(ElementType type);
/// Row chunks the statistics pass splits H*W into (partials: 2 * N * chunks * C floats).
int64_t group_norm_chunks(const GroupNormShape& shape, ElementType type);

/// partials[0][n][chunk][c] = sum of x, partials[1][n][chunk][c] = sum of x^2 over the chunk (fp32).
cudaError_t launch_group_norm_statistics(const void* x, ElementType type, const GroupNormShape& shape, int64_t chunks,
                                         float* partials, cudaStream_t stream);
/// mean_rstd[n][g] = {mean, 1/sqrt(var + eps)} of each group (partials combined in fp64).
cudaError_t launch_group_norm_finalize(const float* partials, const GroupNormShape& shape, int64_t chunks, double eps,
                                       float* mean_rstd, cudaStream_t stream);
/// y = [GELU]((x - mean) * rstd * gamma[c] + beta[c]) in fp32, stored as y_type. x and y 16-byte aligned,
/// C / vector <= 256 (as for the statistics), else cudaErrorInvalidValue.
cudaError_t launch_group_norm_apply(const void* x, ElementType type, const GroupNormShape& shape,
                                    const float* mean_rstd, const float* gamma, const float* beta, bool gelu, void* y,
                                    ElementType y_type, cudaStream_t stream);

}  // namespace peaknet::model::cuda

#pragma once
// The mask rule as integer arithmetic, shared by the CPU and CUDA code: logit1 > logit0 under IEEE
// float32 semantics, independent of flush-to-zero / denormals-are-zero modes and of nvcc's -ftz
// (a subnormal logit must still beat +0; golden logits_ties image 3).
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define PEAKNET_PEAKS_HD __host__ __device__ __forceinline__
#else
#define PEAKNET_PEAKS_HD inline
#endif

namespace peaknet::peaks {

/// Maps float32 bits to an int32 that orders like the float (+0 and -0 both map to 0).
PEAKNET_PEAKS_HD int32_t ordered_float_key(uint32_t bits) {
  const int32_t magnitude = static_cast<int32_t>(bits & 0x7FFFFFFFu);
  return (bits & 0x80000000u) ? -magnitude : magnitude;
}

PEAKNET_PEAKS_HD bool is_nan_bits(uint32_t bits) { return (bits & 0x7FFFFFFFu) > 0x7F800000u; }

/// `logit1 > logit0` on raw float32 bit patterns; NaN on either side gives false (as `>` does).
PEAKNET_PEAKS_HD bool logit_is_peak(uint32_t logit0_bits, uint32_t logit1_bits) {
  return !is_nan_bits(logit0_bits) && !is_nan_bits(logit1_bits) &&
         ordered_float_key(logit1_bits) > ordered_float_key(logit0_bits);
}

}  // namespace peaknet::peaks

#pragma once
// Kernels 1-3 of the GPU peak finder: mask -> union-find labels per image (panel).
// labels[i] holds the local pixel index (y*w + x) of i's parent, kBackground for background. Every
// parent is smaller than its child, so each set's root is its minimum index = the component's
// raster-first pixel: ranking the roots in memory order reproduces the CPU/scipy label order exactly.
// The union-find (CAS links, atomicMin compression; correctness argument in cuda_union_find.hpp)
// follows the Playne & Hawick (2018) layout; the 8-neighbour decision tree halves the unions per pixel.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda_union_find.hpp"
#include "peaks/logit_compare.hpp"

namespace peaknet::peaks::kernels {

inline constexpr uint32_t kBackground = union_find::kBackground;

__device__ __forceinline__ uint32_t logit_bits(const float* p, size_t i) { return __float_as_uint(p[i]); }
__device__ __forceinline__ uint32_t logit_bits(const __nv_bfloat16* p, size_t i) {
  return static_cast<uint32_t>(__bfloat16_as_ushort(p[i])) << 16;  // bf16 -> f32 is a shift (exact)
}
__device__ __forceinline__ uint32_t logit_bits(const __half* p, size_t i) {
  return __float_as_uint(__half2float(p[i]));  // exact, subnormal halves included
}

/// grid (ceil(plane / blockDim), images): labels = own index where logit1 > logit0, else background.
template <typename T>
__global__ void init_labels_from_logits(const T* __restrict__ logits, uint32_t* __restrict__ labels, uint32_t plane) {
  const uint32_t local = blockIdx.x * blockDim.x + threadIdx.x;
  if (local >= plane) return;
  const size_t image = blockIdx.y;
  const T* logit0 = logits + image * 2 * plane;
  const bool peak = logit_is_peak(logit_bits(logit0, local), logit_bits(logit0, plane + local));
  labels[image * plane + local] = peak ? local : kBackground;
}

__global__ void init_labels_from_mask(const uint8_t* __restrict__ mask, uint32_t* __restrict__ labels, uint32_t plane) {
  const uint32_t local = blockIdx.x * blockDim.x + threadIdx.x;
  if (local >= plane) return;
  const size_t i = static_cast<size_t>(blockIdx.y) * plane + local;
  labels[i] = mask[i] != 0 ? local : kBackground;
}

/// Label memory of one image as the union-find sees it (cuda_union_find.hpp). Reads go through L2
/// (__ldcg, not the non-coherent L1): other blocks relink roots while we walk.
struct DeviceLabels {
  uint32_t* labels;
  __device__ __forceinline__ uint32_t load(uint32_t i) const { return __ldcg(labels + i); }
  __device__ __forceinline__ uint32_t cas(uint32_t i, uint32_t expected, uint32_t desired) const {
    return atomicCAS(labels + i, expected, desired);
  }
  __device__ __forceinline__ void atomic_min(uint32_t i, uint32_t value) const { atomicMin(labels + i, value); }
};

__device__ __forceinline__ uint32_t find_and_compress(uint32_t* labels, uint32_t i) {
  DeviceLabels m{labels};
  return union_find::find_and_compress(m, i);
}

/// grid (ceil(plane / blockDim), images): unions of each foreground pixel with its scanned neighbours.
__global__ void merge_labels(uint32_t* __restrict__ all_labels, uint32_t plane, uint32_t w) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= plane) return;
  DeviceLabels m{all_labels + static_cast<size_t>(blockIdx.y) * plane};
  if (m.load(i) == kBackground) return;
  union_find::merge_pixel(m, i, w);
}

/// grid (ceil(plane / blockDim), images): every foreground pixel points straight at its root.
__global__ void flatten_labels(uint32_t* __restrict__ all_labels, uint32_t plane) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= plane) return;
  uint32_t* labels = all_labels + static_cast<size_t>(blockIdx.y) * plane;
  if (__ldcg(labels + i) == kBackground) return;
  labels[i] = find_and_compress(labels, i);  // writes an ancestor: concurrent walkers stay correct
}

}  // namespace peaknet::peaks::kernels

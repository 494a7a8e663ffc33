#pragma once
// Kernels 1-3 of the GPU peak finder: mask -> union-find labels per image (panel).
// labels[i] holds the local pixel index (y*w + x) of i's parent, kBackground for background. Links only
// ever decrease (atomicMin), so each set's root is its minimum index = the component's raster-first
// pixel: ranking the roots in memory order reproduces the CPU/scipy label order exactly.
// Union-find with atomicMin follows Playne & Hawick (2018), "A New Algorithm for Parallel Connected-
// Component Labelling on GPUs"; the 8-neighbour decision tree halves the unions per pixel.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "peaks/logit_compare.hpp"

namespace peaknet::peaks::kernels {

inline constexpr uint32_t kBackground = 0xFFFFFFFFu;

__device__ __forceinline__ uint32_t logit_bits(const float* p, size_t i) { return __float_as_uint(p[i]); }
__device__ __forceinline__ uint32_t logit_bits(const __nv_bfloat16* p, size_t i) {
  return static_cast<uint32_t>(__bfloat16_as_ushort(p[i])) << 16;  // bf16 -> f32 is a shift (exact)
}
__device__ __forceinline__ uint32_t logit_bits(const __half* p, size_t i) {
  return __float_as_uint(__half2float(p[i]));  // exact, subnormal halves included
}

/// grid (ceil(plane / blockDim), images): labels = own index where logit1 > logit0, else background.
template <typename T>
__global__ void init_labels_from_logits(const T* __restrict__ logits, uint32_t* __restrict__ labels,
                                        uint32_t plane) {
  const uint32_t local = blockIdx.x * blockDim.x + threadIdx.x;
  if (local >= plane) return;
  const size_t image = blockIdx.y;
  const T* logit0 = logits + image * 2 * plane;
  const bool peak = logit_is_peak(logit_bits(logit0, local), logit_bits(logit0, plane + local));
  labels[image * plane + local] = peak ? local : kBackground;
}

__global__ void init_labels_from_mask(const uint8_t* __restrict__ mask, uint32_t* __restrict__ labels,
                                      uint32_t plane) {
  const uint32_t local = blockIdx.x * blockDim.x + threadIdx.x;
  if (local >= plane) return;
  const size_t i = static_cast<size_t>(blockIdx.y) * plane + local;
  labels[i] = mask[i] != 0 ? local : kBackground;
}

/// Reads through L2 (not the non-coherent L1): other blocks relink roots while we walk.
__device__ __forceinline__ uint32_t find_root(const uint32_t* labels, uint32_t i) {
  uint32_t parent = __ldcg(labels + i);
  while (parent != i) {
    i = parent;
    parent = __ldcg(labels + i);
  }
  return i;
}

/// find_root, then points every node of the walked path at the root (atomicMin: links only ever
/// decrease and stay inside the set, so this is safe against concurrent unions). Without it a large
/// component (a saturated region, a dense mask) builds chains as long as a row and the merge goes
/// quadratic.
__device__ __forceinline__ uint32_t find_and_compress(uint32_t* labels, uint32_t i) {
  const uint32_t root = find_root(labels, i);
  for (uint32_t node = i;;) {
    const uint32_t next = __ldcg(labels + node);
    if (next <= root) break;  // already points at the root (or below: the set grew meanwhile)
    atomicMin(labels + node, root);
    node = next;
  }
  return root;
}

/// Links the larger root under the smaller; if that root was relinked meanwhile, continue from
/// wherever it points now (the atomicMin may have detached it from its old parent).
__device__ __forceinline__ void unite(uint32_t* labels, uint32_t a, uint32_t b) {
  a = find_and_compress(labels, a);
  b = find_and_compress(labels, b);
  while (a != b) {
    if (a > b) {
      const uint32_t t = a;
      a = b;
      b = t;
    }
    const uint32_t old = atomicMin(labels + b, a);
    if (old == b) return;
    a = find_and_compress(labels, a);
    b = find_and_compress(labels, old);
  }
}

__device__ __forceinline__ bool is_foreground(const uint32_t* labels, uint32_t i) {
  return __ldcg(labels + i) != kBackground;  // foreground never turns background: no race
}

/// grid (ceil(plane / blockDim), images). Neighbours already scanned: up-left, up, up-right, left.
/// If "up" is foreground it is adjacent to the other three, whose own unions cover them.
/// Up-left covers left (left's "up" is up-left).
__global__ void merge_labels(uint32_t* __restrict__ all_labels, uint32_t plane, uint32_t w) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= plane) return;
  uint32_t* labels = all_labels + static_cast<size_t>(blockIdx.y) * plane;
  if (__ldcg(labels + i) == kBackground) return;
  const uint32_t y = i / w, x = i - y * w;
  if (y == 0) {
    if (x > 0 && is_foreground(labels, i - 1)) unite(labels, i, i - 1);
    return;
  }
  const uint32_t up = i - w;
  if (is_foreground(labels, up)) {
    unite(labels, i, up);
    return;
  }
  bool left_covered = false;
  if (x > 0 && is_foreground(labels, up - 1)) {
    unite(labels, i, up - 1);
    left_covered = true;
  }
  if (x + 1 < w && is_foreground(labels, up + 1)) unite(labels, i, up + 1);
  if (!left_covered && x > 0 && is_foreground(labels, i - 1)) unite(labels, i, i - 1);
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

#pragma once
// Kernels 4-7 of the GPU peak finder: rank the roots per event (panel, then raster order = the CPU label
// order), accumulate per-component sums for the kept ranks, write PeakRecords.
// An event's panels are contiguous, so "panel then raster order" is memory order over the event's
// pixels: chunk counts -> one exclusive scan per event -> rank = chunk offset + rank inside the chunk.
// After ranking, a root's label holds kRankFlag | rank; every other foreground pixel points at its root.
#include <cstdint>

#include "cuda_label_kernels.cuh"
#include "shm/event_layout.hpp"

namespace peaknet::peaks::kernels {

inline constexpr uint32_t kRankFlag = 0x80000000u;
inline constexpr uint32_t kChunk = 1024;      ///< pixels per block (= blockDim) in count/rank kernels
inline constexpr uint32_t kStatsSpan = 1024;  ///< columns of one row aggregated by one warp
inline constexpr uint32_t kNoSlot = 0xFFFFFFFFu;
inline constexpr unsigned kFullWarp = 0xFFFFFFFFu;

/// Per-component accumulators for the kept ranks of each event, structure of arrays [event * cap + rank].
struct ComponentSums {
  uint32_t* count;
  unsigned long long* sum_row;
  unsigned long long* sum_col;
  double* intensity_sum;
  float* intensity_max;
  uint32_t* panel;
};

/// Exclusive scan over a block of exactly 1024 threads; `total` gets the block's sum.
__device__ __forceinline__ uint32_t block_exclusive_scan(uint32_t value, uint32_t& total) {
  __shared__ uint32_t warp_sums[32];
  const uint32_t lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  uint32_t inclusive = value;
  for (uint32_t offset = 1; offset < 32; offset <<= 1) {
    const uint32_t other = __shfl_up_sync(kFullWarp, inclusive, offset);
    if (lane >= offset) inclusive += other;
  }
  if (lane == 31) warp_sums[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    uint32_t sum = warp_sums[lane];
    for (uint32_t offset = 1; offset < 32; offset <<= 1) {
      const uint32_t other = __shfl_up_sync(kFullWarp, sum, offset);
      if (lane >= offset) sum += other;
    }
    warp_sums[lane] = sum;
  }
  __syncthreads();
  const uint32_t before = warp == 0 ? 0 : warp_sums[warp - 1];
  total = warp_sums[31];
  __syncthreads();  // warp_sums is reused by the next call
  return before + inclusive - value;
}

__device__ __forceinline__ bool is_root(const uint32_t* labels, size_t event_base, uint32_t event_pixel,
                                        uint32_t plane) {
  return labels[event_base + event_pixel] == event_pixel % plane;
}

/// grid (chunks per event, events), block kChunk: number of roots in each chunk.
__global__ void count_roots(const uint32_t* __restrict__ labels, uint32_t* __restrict__ chunk_counts,
                            uint32_t event_pixels, uint32_t plane) {
  const uint32_t pixel = blockIdx.x * kChunk + threadIdx.x;
  const size_t event_base = static_cast<size_t>(blockIdx.y) * event_pixels;
  const bool root = pixel < event_pixels && is_root(labels, event_base, pixel, plane);
  const int count = __syncthreads_count(root);
  if (threadIdx.x == 0) chunk_counts[static_cast<size_t>(blockIdx.y) * gridDim.x + blockIdx.x] = count;
}

/// grid (events), block 1024: chunk counts -> exclusive offsets in place; n_found = event total.
__global__ void scan_chunk_counts(uint32_t* __restrict__ chunk_counts, uint32_t chunks,
                                  uint32_t* __restrict__ n_found) {
  uint32_t* counts = chunk_counts + static_cast<size_t>(blockIdx.x) * chunks;
  uint32_t carry = 0;
  for (uint32_t first = 0; first < chunks; first += blockDim.x) {
    const uint32_t i = first + threadIdx.x;
    const uint32_t value = i < chunks ? counts[i] : 0;
    uint32_t total = 0;
    const uint32_t offset = block_exclusive_scan(value, total);
    if (i < chunks) counts[i] = carry + offset;
    carry += total;
  }
  if (threadIdx.x == 0) n_found[blockIdx.x] = carry;
}

/// grid (chunks per event, events), block kChunk: root label := kRankFlag | rank; kept ranks get
/// their accumulators initialised (so nothing needs a memset per call).
__global__ void rank_roots(uint32_t* __restrict__ labels, const uint32_t* __restrict__ chunk_offsets,
                           uint32_t event_pixels, uint32_t plane, uint32_t cap, ComponentSums sums) {
  const uint32_t pixel = blockIdx.x * kChunk + threadIdx.x;
  const size_t event_base = static_cast<size_t>(blockIdx.y) * event_pixels;
  const bool root = pixel < event_pixels && is_root(labels, event_base, pixel, plane);
  uint32_t total = 0;
  const uint32_t rank = chunk_offsets[static_cast<size_t>(blockIdx.y) * gridDim.x + blockIdx.x] +
                        block_exclusive_scan(root ? 1u : 0u, total);
  if (!root) return;
  labels[event_base + pixel] = kRankFlag | rank;
  if (rank >= cap) return;
  const size_t slot = static_cast<size_t>(blockIdx.y) * cap + rank;
  sums.count[slot] = 0;
  sums.sum_row[slot] = 0;
  sums.sum_col[slot] = 0;
  sums.intensity_sum[slot] = 0.0;
  sums.intensity_max[slot] = -__int_as_float(0x7f800000);  // -inf
  sums.panel[slot] = pixel / plane;
}

/// Float max via integer atomics (non-negative floats order like ints, negative ones reversed as uints).
__device__ __forceinline__ void atomic_max_float(float* address, float value) {
  if (!signbit(value)) {
    atomicMax(reinterpret_cast<int*>(address), __float_as_int(value));
  } else {
    atomicMin(reinterpret_cast<unsigned*>(address), __float_as_uint(value));
  }
}

struct SegmentSums {
  uint32_t slot;  ///< rank within the event, kNoSlot for none
  uint32_t count;
  unsigned long long sum_col;
  double intensity_sum;
  float intensity_max;
};

/// Adds one segment of a row to its component's accumulators (slot_base = event * cap).
__device__ __forceinline__ void flush(const SegmentSums& s, size_t slot_base, uint32_t row, ComponentSums sums,
                                      bool has_image) {
  const size_t slot = slot_base + s.slot;
  atomicAdd(sums.count + slot, s.count);
  atomicAdd(sums.sum_row + slot, static_cast<unsigned long long>(s.count) * row);
  atomicAdd(sums.sum_col + slot, s.sum_col);
  if (has_image) {
    atomicAdd(sums.intensity_sum + slot, s.intensity_sum);
    atomic_max_float(sums.intensity_max + slot, s.intensity_max);
  }
}

/// grid (ceil(h * spans / warps per block), images). One warp walks kStatsSpan columns of one row,
/// 32 at a time: a segmented warp scan sums runs of equal slot, and a run that continues into the
/// next step is carried, so a long run costs one set of atomics per warp instead of one per pixel.
__global__ void accumulate_component_sums(const uint32_t* __restrict__ all_labels, const float* __restrict__ image,
                                          uint32_t h, uint32_t w, uint32_t panels, uint32_t cap, ComponentSums sums) {
  const uint32_t lane = threadIdx.x & 31;
  const uint32_t spans = (w + kStatsSpan - 1) / kStatsSpan;
  const uint32_t item = blockIdx.x * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (item >= h * spans) return;  // warp-uniform
  const uint32_t row = item / spans, col_begin = (item % spans) * kStatsSpan;
  const uint32_t col_end = min(col_begin + kStatsSpan, w);
  const size_t plane = static_cast<size_t>(h) * w;
  const uint32_t* labels = all_labels + blockIdx.y * plane;
  const size_t row_base = static_cast<size_t>(row) * w;
  const float* image_row = image != nullptr ? image + blockIdx.y * plane + row_base : nullptr;
  const size_t slot_base = static_cast<size_t>(blockIdx.y / panels) * cap;
  const uint32_t lanes_up_to_me = lane == 31 ? kFullWarp : (2u << lane) - 1;
  SegmentSums carry{kNoSlot, 0, 0, 0.0, 0.0f};  // warp-uniform

  for (uint32_t col0 = col_begin; col0 < col_end; col0 += 32) {
    const uint32_t col = col0 + lane;
    uint32_t slot = kNoSlot;
    if (col < col_end) {
      const uint32_t label = labels[row_base + col];
      if (label != kBackground) {
        const uint32_t rank = (label & kRankFlag) ? label & ~kRankFlag : labels[label] & ~kRankFlag;
        if (rank < cap) slot = rank;
      }
    }
    const bool active = slot != kNoSlot;
    if (__ballot_sync(kFullWarp, active) == 0) {
      if (carry.slot != kNoSlot && lane == 0) flush(carry, slot_base, row, sums, image != nullptr);
      carry.slot = kNoSlot;
      continue;
    }
    SegmentSums mine{slot, active ? 1u : 0u, active ? col : 0ull, 0.0, -__int_as_float(0x7f800000)};
    if (active && image_row != nullptr) {
      mine.intensity_sum = image_row[col];
      mine.intensity_max = image_row[col];
    }
    // Segments: maximal runs of lanes with the same slot.
    const uint32_t prev_slot = __shfl_up_sync(kFullWarp, slot, 1);
    const uint32_t next_slot = __shfl_down_sync(kFullWarp, slot, 1);
    const bool head = lane == 0 || prev_slot != slot;
    const bool tail = lane == 31 || next_slot != slot;
    const uint32_t heads = __ballot_sync(kFullWarp, head);
    const uint32_t seg_start = 31 - __clz(heads & lanes_up_to_me);
    for (uint32_t offset = 1; offset < 32; offset <<= 1) {
      const uint32_t count = __shfl_up_sync(kFullWarp, mine.count, offset);
      const unsigned long long sum_col = __shfl_up_sync(kFullWarp, mine.sum_col, offset);
      const double intensity_sum = __shfl_up_sync(kFullWarp, mine.intensity_sum, offset);
      const float intensity_max = __shfl_up_sync(kFullWarp, mine.intensity_max, offset);
      if (lane >= seg_start + offset) {
        mine.count += count;
        mine.sum_col += sum_col;
        mine.intensity_sum += intensity_sum;
        mine.intensity_max = fmaxf(mine.intensity_max, intensity_max);
      }
    }
    // The carry joins the first segment when it continues the same component.
    const uint32_t first_slot = __shfl_sync(kFullWarp, slot, 0);
    const bool carry_joins = carry.slot != kNoSlot && carry.slot == first_slot;
    if (carry.slot != kNoSlot && !carry_joins && lane == 0) {
      flush(carry, slot_base, row, sums, image != nullptr);
    }
    if (carry_joins && seg_start == 0) {
      mine.count += carry.count;
      mine.sum_col += carry.sum_col;
      mine.intensity_sum += carry.intensity_sum;
      mine.intensity_max = fmaxf(mine.intensity_max, carry.intensity_max);
    }
    if (tail && active && lane != 31) {
      flush(mine, slot_base, row, sums, image != nullptr);
    }
    // Lane 31's segment may continue in the next step: carry it (warp-uniform copy).
    carry.slot = __shfl_sync(kFullWarp, slot, 31);
    carry.count = __shfl_sync(kFullWarp, mine.count, 31);
    carry.sum_col = __shfl_sync(kFullWarp, mine.sum_col, 31);
    carry.intensity_sum = __shfl_sync(kFullWarp, mine.intensity_sum, 31);
    carry.intensity_max = __shfl_sync(kFullWarp, mine.intensity_max, 31);
  }
  if (carry.slot != kNoSlot && lane == 0) {
    flush(carry, slot_base, row, sums, image != nullptr);
  }
}

/// grid (ceil(cap / blockDim), events): PeakRecords of the kept ranks; capped events add to overflow.
__global__ void write_peak_records(ComponentSums sums, const uint32_t* __restrict__ n_found, uint32_t cap,
                                   bool has_image, shm::PeakRecord* __restrict__ records,
                                   unsigned long long* __restrict__ overflow) {
  const uint32_t event = blockIdx.y;
  const uint32_t found = n_found[event];
  if (blockIdx.x == 0 && threadIdx.x == 0 && found > cap) {
    atomicAdd(overflow, static_cast<unsigned long long>(found - cap));
  }
  const uint32_t rank = blockIdx.x * blockDim.x + threadIdx.x;
  if (rank >= min(found, cap)) return;
  const size_t slot = static_cast<size_t>(event) * cap + rank;
  const uint32_t count = sums.count[slot];
  shm::PeakRecord record{};
  record.y = static_cast<double>(sums.sum_row[slot]) / count;  // exact sums, one IEEE division
  record.x = static_cast<double>(sums.sum_col[slot]) / count;
  record.intensity_sum = has_image ? sums.intensity_sum[slot] : 0.0;
  record.intensity_max = has_image ? sums.intensity_max[slot] : 0.0f;
  record.panel = sums.panel[slot];
  record.npix = count;
  records[slot] = record;
}

}  // namespace peaknet::peaks::kernels

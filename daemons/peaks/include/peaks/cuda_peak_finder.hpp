#pragma once
// GPU peak finding (target peaknet::peaks_cuda, only when PEAKNET_HAVE_CUDA). Same results as the CPU
// find_peaks: identical components, label order and cap; centroids equal up to rounding of the final
// division (exact integer sums), intensity sums up to float64 summation order.
// Everything is enqueued on the caller's stream: no host sync, no device-wide sync, no allocation
// after construction. Pipeline: mask -> union-find labels (min linear index = root, so the root is the
// component's first pixel) -> per-event ranks of the roots (= panel, then raster order) -> per-component
// sums with warp-aggregated atomics -> PeakRecords -> async copy into pinned host buffers.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <span>

#include "peaks/peak_types.hpp"

namespace peaknet::peaks {

enum class LogitsType : uint8_t { kF32, kBF16, kF16 };

/// Owns device scratch (labels, per-component accumulators) and pinned host result buffers, sized at
/// construction for at most `max_events` events of `max_panels_per_event` panels of h x w.
/// One enqueue at a time: results of an enqueue stay valid until the next enqueue is issued.
/// Not thread-safe; one instance per stream / worker (use two for double buffering).
class CudaPeakFinder {
 public:
  CudaPeakFinder(uint32_t max_events, uint32_t max_panels_per_event, uint32_t h, uint32_t w, uint32_t max_num_peak,
                 uint32_t min_num_peak = PeakParams{}.min_num_peak);
  ~CudaPeakFinder();
  CudaPeakFinder(CudaPeakFinder&&) noexcept;
  CudaPeakFinder& operator=(CudaPeakFinder&&) noexcept;
  CudaPeakFinder(const CudaPeakFinder&) = delete;
  CudaPeakFinder& operator=(const CudaPeakFinder&) = delete;

  /// From device logits (events*panels, 2, h, w) of `type`; d_image: device float (events*panels, h, w)
  /// or nullptr (intensities 0). Throws std::invalid_argument when events/panels exceed the capacity,
  /// std::runtime_error when a launch fails.
  void enqueue_from_logits(const void* d_logits, LogitsType type, const float* d_image, uint32_t events,
                           uint32_t panels, cudaStream_t stream);
  /// From a device mask (events*panels, h, w), nonzero = foreground.
  void enqueue_from_mask(const uint8_t* d_mask, const float* d_image, uint32_t events, uint32_t panels,
                         cudaStream_t stream);

  /// After the stream passed the last enqueue (caller synchronises): the peaks of `event`.
  EventPeaks result(uint32_t event) const;
  /// Zero-copy view of the same: kept records (panel, then label order) in pinned host memory.
  std::span<const shm::PeakRecord> peaks(uint32_t event) const;
  uint32_t n_found(uint32_t event) const;
  /// Peaks dropped by the cap since construction (sum of n_found - max_num_peak over capped events);
  /// valid after the stream passed the last enqueue.
  uint64_t overflow_count() const;

  uint32_t max_num_peak() const;
  uint32_t min_num_peak() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peaknet::peaks

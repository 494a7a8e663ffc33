// Host side of the GPU peak finder: buffers sized at construction, kernels enqueued on the caller's
// stream, results copied asynchronously into pinned host memory. Kernels: cuda_label_kernels.cuh
// (mask -> union-find labels) and cuda_stats_kernels.cuh (ranks, sums, records).
#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "cuda_label_kernels.cuh"
#include "cuda_stats_kernels.cuh"
#include "peaks/cuda_peak_finder.hpp"

namespace peaknet::peaks {
namespace {

constexpr uint32_t kPixelBlock = 256;  // threads per block of the per-pixel kernels
constexpr uint32_t kStatsBlock = 256;  // 8 warps, one row span each
constexpr uint32_t kRecordBlock = 256;
constexpr uint32_t kMaxGridY = 65535;

void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CudaPeakFinder: ") + what + ": " + cudaGetErrorString(err));
  }
}

uint32_t blocks_for(uint64_t items, uint32_t per_block) {
  return static_cast<uint32_t>((items + per_block - 1) / per_block);
}

/// Device allocation owned by one object (cudaFree on destruction).
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t count) {
    if (count > 0) check_cuda(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T)), "cudaMalloc");
  }
  ~DeviceArray() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceArray(DeviceArray&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
};

/// Page-locked host allocation (cudaFreeHost on destruction), the target of the async result copies.
template <typename T>
class PinnedArray {
 public:
  PinnedArray() = default;
  explicit PinnedArray(size_t count) {
    if (count > 0) check_cuda(cudaMallocHost(reinterpret_cast<void**>(&ptr_), count * sizeof(T)), "cudaMallocHost");
  }
  ~PinnedArray() {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
  }
  PinnedArray(PinnedArray&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  PinnedArray& operator=(PinnedArray&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
};

}  // namespace

struct CudaPeakFinder::Impl {
  uint32_t max_events, max_panels, h, w, cap, min_num_peak;
  size_t plane;
  size_t slots;  // max_events * cap
  DeviceArray<uint32_t> labels;
  DeviceArray<uint32_t> chunk_counts;
  DeviceArray<uint32_t> n_found;
  DeviceArray<uint32_t> count, panel;
  DeviceArray<unsigned long long> sum_row, sum_col, overflow;
  DeviceArray<double> intensity_sum;
  DeviceArray<float> intensity_max;
  DeviceArray<shm::PeakRecord> records;
  PinnedArray<shm::PeakRecord> host_records;
  PinnedArray<uint32_t> host_n_found;
  PinnedArray<unsigned long long> host_overflow;
  uint32_t last_events = 0;

  kernels::ComponentSums sums() const {
    return {count.get(), sum_row.get(), sum_col.get(), intensity_sum.get(), intensity_max.get(), panel.get()};
  }

  void check_shape(uint32_t events, uint32_t panels) const {
    if (events == 0 || events > max_events || panels == 0 || panels > max_panels) {
      throw std::invalid_argument("CudaPeakFinder: " + std::to_string(events) + " events x " + std::to_string(panels) +
                                  " panels exceeds the capacity of " + std::to_string(max_events) + " x " +
                                  std::to_string(max_panels) + " (or is zero)");
    }
  }

  void label_rank_measure(const float* d_image, uint32_t events, uint32_t panels, cudaStream_t stream);
};

CudaPeakFinder::CudaPeakFinder(uint32_t max_events, uint32_t max_panels_per_event, uint32_t h, uint32_t w,
                               uint32_t max_num_peak, uint32_t min_num_peak)
    : impl_(std::make_unique<Impl>()) {
  const uint64_t event_pixels = static_cast<uint64_t>(max_panels_per_event) * h * w;
  if (max_events == 0 || max_panels_per_event == 0 || h == 0 || w == 0) {
    throw std::invalid_argument("CudaPeakFinder: events, panels, h and w must all be >= 1");
  }
  if (event_pixels >= kernels::kRankFlag) {
    throw std::invalid_argument("CudaPeakFinder: panels*h*w = " + std::to_string(event_pixels) +
                                " per event exceeds 2^31 (labels and ranks are 31-bit)");
  }
  if (static_cast<uint64_t>(max_events) * max_panels_per_event > kMaxGridY) {
    throw std::invalid_argument("CudaPeakFinder: events*panels must be <= 65535");
  }
  Impl& d = *impl_;
  d.max_events = max_events;
  d.max_panels = max_panels_per_event;
  d.h = h;
  d.w = w;
  d.cap = max_num_peak;
  d.min_num_peak = min_num_peak;
  d.plane = static_cast<size_t>(h) * w;
  d.slots = static_cast<size_t>(max_events) * max_num_peak;
  d.labels = DeviceArray<uint32_t>(static_cast<size_t>(max_events) * event_pixels);
  d.chunk_counts = DeviceArray<uint32_t>(static_cast<size_t>(max_events) * blocks_for(event_pixels, kernels::kChunk));
  d.n_found = DeviceArray<uint32_t>(max_events);
  d.count = DeviceArray<uint32_t>(d.slots);
  d.panel = DeviceArray<uint32_t>(d.slots);
  d.sum_row = DeviceArray<unsigned long long>(d.slots);
  d.sum_col = DeviceArray<unsigned long long>(d.slots);
  d.intensity_sum = DeviceArray<double>(d.slots);
  d.intensity_max = DeviceArray<float>(d.slots);
  d.records = DeviceArray<shm::PeakRecord>(d.slots);
  d.overflow = DeviceArray<unsigned long long>(1);
  d.host_records = PinnedArray<shm::PeakRecord>(d.slots);
  d.host_n_found = PinnedArray<uint32_t>(max_events);
  d.host_overflow = PinnedArray<unsigned long long>(1);
  check_cuda(cudaMemset(d.overflow.get(), 0, sizeof(unsigned long long)), "cudaMemset(overflow)");
  *d.host_overflow.get() = 0;
}

CudaPeakFinder::~CudaPeakFinder() = default;
CudaPeakFinder::CudaPeakFinder(CudaPeakFinder&&) noexcept = default;
CudaPeakFinder& CudaPeakFinder::operator=(CudaPeakFinder&&) noexcept = default;

void CudaPeakFinder::enqueue_from_logits(const void* d_logits, LogitsType type, const float* d_image, uint32_t events,
                                         uint32_t panels, cudaStream_t stream) {
  Impl& d = *impl_;
  d.check_shape(events, panels);
  const dim3 grid(blocks_for(d.plane, kPixelBlock), events * panels);
  const auto plane = static_cast<uint32_t>(d.plane);
  switch (type) {
    case LogitsType::kF32:
      kernels::init_labels_from_logits<<<grid, kPixelBlock, 0, stream>>>(static_cast<const float*>(d_logits),
                                                                         d.labels.get(), plane);
      break;
    case LogitsType::kBF16:
      kernels::init_labels_from_logits<<<grid, kPixelBlock, 0, stream>>>(static_cast<const __nv_bfloat16*>(d_logits),
                                                                         d.labels.get(), plane);
      break;
    case LogitsType::kF16:
      kernels::init_labels_from_logits<<<grid, kPixelBlock, 0, stream>>>(static_cast<const __half*>(d_logits),
                                                                         d.labels.get(), plane);
      break;
    default:
      throw std::invalid_argument("CudaPeakFinder: unknown LogitsType " + std::to_string(static_cast<int>(type)));
  }
  check_cuda(cudaGetLastError(), "init_labels_from_logits launch");
  d.label_rank_measure(d_image, events, panels, stream);
}

void CudaPeakFinder::enqueue_from_mask(const uint8_t* d_mask, const float* d_image, uint32_t events, uint32_t panels,
                                       cudaStream_t stream) {
  Impl& d = *impl_;
  d.check_shape(events, panels);
  const dim3 grid(blocks_for(d.plane, kPixelBlock), events * panels);
  kernels::init_labels_from_mask<<<grid, kPixelBlock, 0, stream>>>(d_mask, d.labels.get(),
                                                                   static_cast<uint32_t>(d.plane));
  check_cuda(cudaGetLastError(), "init_labels_from_mask launch");
  d.label_rank_measure(d_image, events, panels, stream);
}

void CudaPeakFinder::Impl::label_rank_measure(const float* d_image, uint32_t events, uint32_t panels,
                                              cudaStream_t stream) {
  const uint32_t images = events * panels;
  const auto plane32 = static_cast<uint32_t>(plane);
  const dim3 pixel_grid(blocks_for(plane, kPixelBlock), images);
  kernels::merge_labels<<<pixel_grid, kPixelBlock, 0, stream>>>(labels.get(), plane32, w);
  kernels::flatten_labels<<<pixel_grid, kPixelBlock, 0, stream>>>(labels.get(), plane32);

  const auto event_pixels = static_cast<uint32_t>(plane * panels);
  const dim3 chunk_grid(blocks_for(event_pixels, kernels::kChunk), events);
  kernels::count_roots<<<chunk_grid, kernels::kChunk, 0, stream>>>(labels.get(), chunk_counts.get(), event_pixels,
                                                                   plane32);
  kernels::scan_chunk_counts<<<events, 1024, 0, stream>>>(chunk_counts.get(), chunk_grid.x, n_found.get());
  kernels::rank_roots<<<chunk_grid, kernels::kChunk, 0, stream>>>(labels.get(), chunk_counts.get(), event_pixels,
                                                                  plane32, cap, sums());
  if (cap > 0) {
    const uint32_t spans = (w + kernels::kStatsSpan - 1) / kernels::kStatsSpan;
    const dim3 stats_grid(blocks_for(static_cast<uint64_t>(h) * spans, kStatsBlock / 32), images);
    kernels::accumulate_component_sums<<<stats_grid, kStatsBlock, 0, stream>>>(labels.get(), d_image, h, w, panels, cap,
                                                                               sums());
  }
  const dim3 record_grid(std::max(1u, blocks_for(cap, kRecordBlock)), events);
  kernels::write_peak_records<<<record_grid, kRecordBlock, 0, stream>>>(sums(), n_found.get(), cap, d_image != nullptr,
                                                                        records.get(), overflow.get());
  check_cuda(cudaGetLastError(), "peak finder kernel launch");

  if (cap > 0) {
    check_cuda(cudaMemcpyAsync(host_records.get(), records.get(), sizeof(shm::PeakRecord) * events * cap,
                               cudaMemcpyDeviceToHost, stream),
               "cudaMemcpyAsync(records)");
  }
  check_cuda(
      cudaMemcpyAsync(host_n_found.get(), n_found.get(), sizeof(uint32_t) * events, cudaMemcpyDeviceToHost, stream),
      "cudaMemcpyAsync(n_found)");
  check_cuda(
      cudaMemcpyAsync(host_overflow.get(), overflow.get(), sizeof(unsigned long long), cudaMemcpyDeviceToHost, stream),
      "cudaMemcpyAsync(overflow)");
  last_events = events;
}

std::span<const shm::PeakRecord> CudaPeakFinder::peaks(uint32_t event) const {
  const Impl& d = *impl_;
  if (event >= d.last_events) {
    throw std::out_of_range("CudaPeakFinder: event " + std::to_string(event) + " not in the last enqueue of " +
                            std::to_string(d.last_events) + " events");
  }
  const uint32_t kept = std::min(d.host_n_found.get()[event], d.cap);
  return {d.host_records.get() + static_cast<size_t>(event) * d.cap, kept};
}

uint32_t CudaPeakFinder::n_found(uint32_t event) const {
  peaks(event);  // range check
  return impl_->host_n_found.get()[event];
}

EventPeaks CudaPeakFinder::result(uint32_t event) const {
  const auto kept = peaks(event);
  EventPeaks out;
  out.peaks.assign(kept.begin(), kept.end());
  out.n_found = impl_->host_n_found.get()[event];
  out.hit = out.n_found >= impl_->min_num_peak;
  return out;
}

uint64_t CudaPeakFinder::overflow_count() const { return *impl_->host_overflow.get(); }
uint32_t CudaPeakFinder::max_num_peak() const { return impl_->cap; }
uint32_t CudaPeakFinder::min_num_peak() const { return impl_->min_num_peak; }

}  // namespace peaknet::peaks

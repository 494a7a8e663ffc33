#pragma once
// Small RAII wrappers for the raw CUDA handles the pipeline owns (events, host registration, device
// allocations for IPC). Torch owns the streams. Errors throw std::runtime_error naming the call.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace peaknet::inferd {

inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
  }
}

/// One cudaEvent_t. `timing` events can measure stage times; plain ones only order streams.
class CudaEvent {
 public:
  explicit CudaEvent(unsigned flags = cudaEventDisableTiming) {
    cuda_check(cudaEventCreateWithFlags(&event_, flags), "cudaEventCreateWithFlags");
  }
  ~CudaEvent() {
    if (event_ != nullptr) cudaEventDestroy(event_);
  }
  CudaEvent(CudaEvent&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
  CudaEvent& operator=(CudaEvent&& o) noexcept {
    std::swap(event_, o.event_);
    return *this;
  }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;

  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream) { cuda_check(cudaEventRecord(event_, stream), "cudaEventRecord"); }
  void synchronize() const { cuda_check(cudaEventSynchronize(event_), "cudaEventSynchronize"); }
  bool query() const {
    const cudaError_t s = cudaEventQuery(event_);
    if (s == cudaErrorNotReady) return false;
    cuda_check(s, "cudaEventQuery");
    return true;
  }
  /// Milliseconds from `start` to this event (both timing events, both completed).
  float since(const CudaEvent& start) const {
    float ms = 0.f;
    cuda_check(cudaEventElapsedTime(&ms, start.event_, event_), "cudaEventElapsedTime");
    return ms;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

/// cudaHostRegister of an existing mapping (the Q1 data area): DMA straight from the shm slots.
class HostRegistration {
 public:
  HostRegistration() = default;
  HostRegistration(const void* base, size_t bytes) {
    const cudaError_t s = cudaHostRegister(const_cast<void*>(base), bytes, cudaHostRegisterDefault);
    if (s == cudaSuccess) {
      base_ = base;
    } else {
      error_ = cudaGetErrorString(s);
      cudaGetLastError();  // clear the sticky-free error so later calls do not report it
    }
  }
  ~HostRegistration() {
    if (base_ != nullptr) cudaHostUnregister(const_cast<void*>(base_));
  }
  HostRegistration(HostRegistration&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)), error_(std::move(o.error_)) {}
  HostRegistration& operator=(HostRegistration&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(error_, o.error_);
    return *this;
  }
  bool registered() const { return base_ != nullptr; }
  const std::string& error() const { return error_; }

 private:
  const void* base_ = nullptr;
  std::string error_;
};

}  // namespace peaknet::inferd

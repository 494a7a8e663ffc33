#pragma once
// DeviceMaskPool (device_masks): masks stay on the GPU for a consumer in another process. One entry
// per Q2 slot, so an entry is overwritten only after the consumer released the Q2 record that points
// at it. A cudaMalloc'ed pool (IPC needs its own allocation, not torch's caching allocator) exported
// once as cudaIpcMemHandle, plus one interprocess event recorded after each copy: the consumer opens
// both, waits on the event, then reads pool + ipc_offset.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda_handles.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::inferd {

class DeviceMaskPool {
 public:
  DeviceMaskPool(uint32_t entries, uint64_t entry_bytes);
  ~DeviceMaskPool();
  DeviceMaskPool(const DeviceMaskPool&) = delete;
  DeviceMaskPool& operator=(const DeviceMaskPool&) = delete;

  uint64_t entry_bytes() const { return entry_bytes_; }
  /// Enqueues the copy of `bytes` (<= entry_bytes) from `d_mask` into entry `q2_slot` on `stream`,
  /// records the IPC event after it and fills the result's IPC fields + kResultFlagDeviceMask.
  void store(uint32_t q2_slot, const void* d_mask, uint64_t bytes, cudaStream_t stream,
             shm::ResultHeader& result);

 private:
  uint32_t entries_;
  uint64_t entry_bytes_;
  void* pool_ = nullptr;
  cudaIpcMemHandle_t mem_handle_{};
  CudaEvent event_{cudaEventDisableTiming | cudaEventInterprocess};
  cudaIpcEventHandle_t event_handle_{};
};

}  // namespace peaknet::inferd

#pragma once
// DeviceMaskPool (write_masks / device_masks on CUDA): masks stay on the GPU for a consumer in another
// process (writerd, inferd-ipc-consumer). One entry per Q2 slot: the Q2 claim is the entry's lease. An
// entry is overwritten only when inferd acquires that Q2 slot again, which the ring allows only after
// the consumer released the record that points at it; a consumer killed while holding records has its
// claims requeued by the ring (dead-consumer recovery), so the entries stay intact for the next
// consumer and come back to inferd once that one releases them: nothing to reclaim by hand.
// A cudaMalloc'ed pool (IPC needs its own allocation, not torch's caching allocator) exported once as
// cudaIpcMemHandle, plus one interprocess event recorded after each copy: the consumer opens both
// (once per exporting process), waits on the event, then reads pool + ipc_offset.
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
  /// records the IPC event after it and fills the result's IPC fields, mask_place kDevice,
  /// mask_device_pci and kResultFlagDeviceMask.
  void store(uint32_t q2_slot, const void* d_mask, uint64_t bytes, cudaStream_t stream, shm::ResultHeader& result);

 private:
  uint32_t entries_;
  uint64_t entry_bytes_;
  void* pool_ = nullptr;
  cudaIpcMemHandle_t mem_handle_{};
  CudaEvent event_{cudaEventDisableTiming | cudaEventInterprocess};
  cudaIpcEventHandle_t event_handle_{};
  char pci_bus_id_[16] = {};  ///< the pool's GPU, as writerd finds it whatever its CUDA_VISIBLE_DEVICES
};

}  // namespace peaknet::inferd

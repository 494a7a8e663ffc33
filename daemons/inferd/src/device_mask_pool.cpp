#include "device_mask_pool.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace peaknet::inferd {

DeviceMaskPool::DeviceMaskPool(uint32_t entries, uint64_t entry_bytes)
    : entries_(entries), entry_bytes_((entry_bytes + 255) / 256 * 256) {
  cuda_check(cudaMalloc(&pool_, entries_ * entry_bytes_), "cudaMalloc(device mask pool)");
  cuda_check(cudaIpcGetMemHandle(&mem_handle_, pool_), "cudaIpcGetMemHandle");
  cuda_check(cudaIpcGetEventHandle(&event_handle_, event_.get()), "cudaIpcGetEventHandle");
  int device = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cuda_check(cudaDeviceGetPCIBusId(pci_bus_id_, sizeof(pci_bus_id_), device), "cudaDeviceGetPCIBusId");
  static_assert(sizeof(pci_bus_id_) == sizeof(shm::ResultHeader::mask_device_pci));
  static_assert(sizeof(cudaIpcMemHandle_t) <= sizeof(shm::ResultHeader::ipc_mem_handle));
  static_assert(sizeof(cudaIpcEventHandle_t) <= sizeof(shm::ResultHeader::ipc_event_handle));
}

DeviceMaskPool::~DeviceMaskPool() {
  if (pool_ != nullptr) cudaFree(pool_);
}

void DeviceMaskPool::store(uint32_t q2_slot, const void* d_mask, uint64_t bytes, cudaStream_t stream,
                           shm::ResultHeader& result) {
  if (q2_slot >= entries_ || bytes > entry_bytes_) {
    throw std::logic_error("device mask of " + std::to_string(bytes) + " bytes for Q2 slot " + std::to_string(q2_slot) +
                           " does not fit the pool");
  }
  const uint64_t offset = uint64_t(q2_slot) * entry_bytes_;
  cuda_check(cudaMemcpyAsync(static_cast<char*>(pool_) + offset, d_mask, bytes, cudaMemcpyDeviceToDevice, stream),
             "cudaMemcpyAsync(device mask)");
  event_.record(stream);
  std::memcpy(result.ipc_mem_handle, &mem_handle_, sizeof(mem_handle_));
  std::memcpy(result.ipc_event_handle, &event_handle_, sizeof(event_handle_));
  result.ipc_offset = offset;
  result.ipc_bytes = bytes;
  result.flags |= shm::kResultFlagDeviceMask;
  result.mask_place = shm::MaskPlace::kDevice;
  std::memcpy(result.mask_device_pci, pci_bus_id_, sizeof(pci_bus_id_));
}

}  // namespace peaknet::inferd

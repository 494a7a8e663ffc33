#pragma once
// NvmlProbe: GPU utilisation and memory through NVML, loaded with dlopen("libnvidia-ml.so.1") so inferd
// has no link dependency on the driver library; unavailable (CPU machine, container without it) ->
// available() is false and every read gives nothing.
#include <cstdint>
#include <optional>

namespace peaknet::inferd {

struct GpuSample {
  uint32_t utilization_pct = 0;  ///< kernel activity over the driver's last sample period
  uint64_t memory_used_bytes = 0;
};

class NvmlProbe {
 public:
  /// `gpu` is the CUDA index; NVML counts all devices, so the PCI bus id maps between them.
  NvmlProbe(int gpu, const char* pci_bus_id);
  ~NvmlProbe();
  NvmlProbe(const NvmlProbe&) = delete;
  NvmlProbe& operator=(const NvmlProbe&) = delete;

  bool available() const { return device_ != nullptr; }
  std::optional<GpuSample> sample() const;

 private:
  void* library_ = nullptr;
  void* device_ = nullptr;  ///< nvmlDevice_t
  int (*utilization_)(void*, void*) = nullptr;
  int (*memory_)(void*, void*) = nullptr;
  int (*shutdown_)() = nullptr;
};

}  // namespace peaknet::inferd

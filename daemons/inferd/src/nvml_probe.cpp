#include "nvml_probe.hpp"

#include <dlfcn.h>

namespace peaknet::inferd {
namespace {

// The few NVML ABI pieces used here (nvml.h is not needed: these layouts are stable since NVML 1).
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr int kNvmlSuccess = 0;

}  // namespace

NvmlProbe::NvmlProbe(int gpu, const char* pci_bus_id) {
  library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library_ == nullptr) return;
  auto init = reinterpret_cast<int (*)()>(dlsym(library_, "nvmlInit_v2"));
  auto by_pci = reinterpret_cast<int (*)(const char*, void**)>(dlsym(library_, "nvmlDeviceGetHandleByPciBusId_v2"));
  auto by_index = reinterpret_cast<int (*)(unsigned, void**)>(dlsym(library_, "nvmlDeviceGetHandleByIndex_v2"));
  utilization_ = reinterpret_cast<int (*)(void*, void*)>(dlsym(library_, "nvmlDeviceGetUtilizationRates"));
  memory_ = reinterpret_cast<int (*)(void*, void*)>(dlsym(library_, "nvmlDeviceGetMemoryInfo"));
  shutdown_ = reinterpret_cast<int (*)()>(dlsym(library_, "nvmlShutdown"));
  if (!init || !utilization_ || !memory_ || !shutdown_ || init() != kNvmlSuccess) {
    dlclose(library_);
    library_ = nullptr;
    return;
  }
  void* device = nullptr;
  bool found = pci_bus_id != nullptr && by_pci && by_pci(pci_bus_id, &device) == kNvmlSuccess;
  if (!found && by_index) found = by_index(static_cast<unsigned>(gpu), &device) == kNvmlSuccess;
  if (found) device_ = device;
}

NvmlProbe::~NvmlProbe() {
  if (library_ == nullptr) return;
  shutdown_();
  dlclose(library_);
}

std::optional<GpuSample> NvmlProbe::sample() const {
  if (device_ == nullptr) return std::nullopt;
  NvmlUtilization u{};
  NvmlMemory m{};
  if (utilization_(device_, &u) != kNvmlSuccess || memory_(device_, &m) != kNvmlSuccess) {
    return std::nullopt;
  }
  return GpuSample{u.gpu, m.used};
}

}  // namespace peaknet::inferd

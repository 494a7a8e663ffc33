#include "writerd/device_mask_reader.hpp"

#include <atomic>
#include <cstring>

#include <spdlog/spdlog.h>

namespace peaknet::writerd {

#ifdef PEAKNET_WRITERD_HAVE_CUDA
std::unique_ptr<DeviceMaskReader> make_cuda_ipc_mask_reader();  // src/cuda/cuda_ipc_mask_reader.cpp
#else
namespace {

/// A build without CUDA: every device mask is missing, said once in the log and counted per hit.
class NoCudaMaskReader final : public DeviceMaskReader {
 public:
  std::string read(const shm::ResultHeader& h, uint8_t*) override {
    if (!logged_.exchange(true)) {
      spdlog::error(
          "writerd was built without CUDA: the device masks of inferd on GPU {} cannot be read; those "
          "hits are written without mask (peakMaskStatus 2) and counted masks_missing. Build writerd "
          "with PEAKNET_CUDA, or run inferd with device cpu",
          h.mask_device_pci[0] ? std::string(h.mask_device_pci, strnlen(h.mask_device_pci, 16)) : "?");
    }
    return "writerd built without CUDA cannot read device masks";
  }
  bool available() const override { return false; }

 private:
  std::atomic<bool> logged_{false};
};

}  // namespace
#endif

std::unique_ptr<DeviceMaskReader> make_device_mask_reader() {
#ifdef PEAKNET_WRITERD_HAVE_CUDA
  return make_cuda_ipc_mask_reader();
#else
  return std::make_unique<NoCudaMaskReader>();
#endif
}

}  // namespace peaknet::writerd

// The CUDA IPC side of writerd's masks (built only with PEAKNET_CUDA; the rest of writerd is CPU-only).
// Per exporting inferd pool (key: the cudaIpcMemHandle bytes): the device found by PCI bus id, the
// mapping opened once, the IPC event opened once. Per record: producer alive? -> wait for the event
// (polling, so a dead producer cannot hang us) -> cudaMemcpy D2H -> producer still alive? A producer
// found dead closes its mapping and fails every record that points into it (counted by the caller).
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "shm/process_liveness.hpp"
#include "writerd/device_mask_reader.hpp"

namespace peaknet::writerd {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kEventWait = std::chrono::seconds(5);  // the copy was enqueued before the record was published

std::string cuda_error(const char* what, cudaError_t e) { return std::string(what) + ": " + cudaGetErrorString(e); }

class CudaIpcMaskReader final : public DeviceMaskReader {
 public:
  ~CudaIpcMaskReader() override {
    for (auto& [key, pool] : pools_) close(pool);
  }

  bool available() const override { return true; }

  std::string read(const shm::ResultHeader& h, uint8_t* out) override {
    std::lock_guard lock(mutex_);  // one copy at a time: the cache and the device selection are shared
    const std::string key(reinterpret_cast<const char*>(h.ipc_mem_handle), sizeof(cudaIpcMemHandle_t));
    if (!shm::process_identity_alive(h.producer_identity)) {
      forget(key);
      return "inferd pid " + std::to_string(h.producer_identity >> 32) + " that holds the device mask is gone";
    }
    if (h.ipc_bytes != h.mask_bytes) {
      return "device mask of " + std::to_string(h.ipc_bytes) + " bytes, header says " + std::to_string(h.mask_bytes);
    }
    auto it = pools_.find(key);
    if (it == pools_.end()) {
      Pool pool;
      if (std::string why = open(h, pool); !why.empty()) return why;
      it = pools_.emplace(key, pool).first;
    }
    Pool& pool = it->second;
    if (pool.identity != h.producer_identity) return "device mask handle reused by another inferd";
    cudaSetDevice(pool.device);  // per thread: the pool's threads take turns here
    // Wait for the D2D copy into the entry (recorded on the exporter's stream before it published).
    const auto deadline = Clock::now() + kEventWait;
    for (;;) {
      const cudaError_t e = cudaEventQuery(pool.event);
      if (e == cudaSuccess) break;
      if (e != cudaErrorNotReady) return cuda_error("cudaEventQuery(IPC event)", e);
      if (!shm::process_identity_alive(h.producer_identity)) {
        forget(key);
        return "inferd died before its device mask was complete";
      }
      if (Clock::now() > deadline) return "IPC event of the device mask not complete after 5 s";
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const cudaError_t e =
        cudaMemcpy(out, static_cast<const char*>(pool.base) + h.ipc_offset, h.mask_bytes, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) {
      forget(key);
      return cuda_error("cudaMemcpy(device mask -> host)", e);
    }
    return {};
  }

 private:
  struct Pool {
    int device = 0;
    void* base = nullptr;
    cudaEvent_t event = nullptr;
    uint64_t identity = 0;
  };

  static std::string open(const shm::ResultHeader& h, Pool& pool) {
    const std::string pci(h.mask_device_pci, strnlen(h.mask_device_pci, sizeof(h.mask_device_pci)));
    // The exporter's GPU as this process numbers it; if it is not visible here, the current device
    // maps it through peer access (cudaIpcMemLazyEnablePeerAccess).
    if (pci.empty() || cudaDeviceGetByPCIBusId(&pool.device, pci.c_str()) != cudaSuccess) {
      cudaGetLastError();
      cudaGetDevice(&pool.device);
    }
    if (cudaError_t e = cudaSetDevice(pool.device); e != cudaSuccess) return cuda_error("cudaSetDevice", e);
    cudaIpcMemHandle_t mem;
    std::memcpy(&mem, h.ipc_mem_handle, sizeof(mem));
    if (cudaError_t e = cudaIpcOpenMemHandle(&pool.base, mem, cudaIpcMemLazyEnablePeerAccess); e != cudaSuccess) {
      return cuda_error("cudaIpcOpenMemHandle(device mask pool)", e);
    }
    cudaIpcEventHandle_t ev;
    std::memcpy(&ev, h.ipc_event_handle, sizeof(ev));
    if (cudaError_t e = cudaIpcOpenEventHandle(&pool.event, ev); e != cudaSuccess) {
      cudaIpcCloseMemHandle(pool.base);
      return cuda_error("cudaIpcOpenEventHandle(device mask event)", e);
    }
    pool.identity = h.producer_identity;
    spdlog::info("device masks: opened the pool of inferd pid {} on GPU {} (device {})", h.producer_identity >> 32,
                 pci.empty() ? "?" : pci, pool.device);
    return {};
  }

  static void close(Pool& pool) {
    cudaSetDevice(pool.device);
    if (pool.event) cudaEventDestroy(pool.event);
    if (pool.base) cudaIpcCloseMemHandle(pool.base);
    pool = Pool{};
  }

  void forget(const std::string& key) {
    auto it = pools_.find(key);
    if (it == pools_.end()) return;
    spdlog::warn("device masks: inferd pid {} is gone; its pool is closed, its records' masks are missing",
                 it->second.identity >> 32);
    close(it->second);
    pools_.erase(it);
  }

  std::mutex mutex_;
  std::map<std::string, Pool> pools_;
};

}  // namespace

std::unique_ptr<DeviceMaskReader> make_cuda_ipc_mask_reader() { return std::make_unique<CudaIpcMaskReader>(); }

}  // namespace peaknet::writerd

// inferd-ipc-consumer: test consumer of device masks (inferd.device_masks). Claims Q2 records, opens
// the CUDA IPC memory/event handles they carry (each handle once), waits on the event, copies the
// mask out and checks it against the record: foreground pixels == sum of the peaks' npix when no
// peak was dropped by the cap. Prints one JSON summary line; exit 0 when every record checked out.
//   inferd-ipc-consumer --q2 NAME --expect N [--gpu G] [--timeout-ms T]
#include <cuda_runtime_api.h>

#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

using namespace peaknet;

namespace {

std::string key_of(const uint8_t* bytes, size_t n) { return std::string(reinterpret_cast<const char*>(bytes), n); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Reads device masks that inferd left on the GPU (CUDA IPC) and checks them"};
  std::string q2_name;
  size_t expect = 0;
  int gpu = 0;
  int timeout_ms = 5000;
  app.add_option("--q2", q2_name, "Q2 segment name")->required();
  app.add_option("--expect", expect, "records to read")->required();
  app.add_option("--gpu", gpu, "CUDA device");
  app.add_option("--timeout-ms", timeout_ms, "give up after this long without a record");
  CLI11_PARSE(app, argc, argv);
  try {
    if (cudaSetDevice(gpu) != cudaSuccess) throw std::runtime_error("cudaSetDevice failed");
    cudaStream_t stream = nullptr;
    cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    shm::Ring q2 = shm::Ring::attach(q2_name);
    std::map<std::string, void*> pools;         // one open per exported pool
    std::map<std::string, cudaEvent_t> events;  // one open per exported event
    size_t read = 0, checked = 0, bad = 0, without_mask = 0;
    uint64_t foreground_total = 0;
    std::vector<shm::ReadSlot> slots;
    std::vector<uint8_t> mask;
    while (read < expect && q2.claim(slots, 16, std::chrono::milliseconds(timeout_ms)) > 0) {
      for (auto& s : slots) {
        shm::ResultHeader r;
        std::memcpy(&r, s.data(), sizeof(r));
        ++read;
        if (!(r.flags & shm::kResultFlagDeviceMask)) {
          ++without_mask;
          q2.release(std::move(s));
          continue;
        }
        const std::string mem_key = key_of(r.ipc_mem_handle, sizeof(cudaIpcMemHandle_t));
        if (!pools.count(mem_key)) {
          cudaIpcMemHandle_t h;
          std::memcpy(&h, r.ipc_mem_handle, sizeof(h));
          void* base = nullptr;
          if (cudaIpcOpenMemHandle(&base, h, cudaIpcMemLazyEnablePeerAccess) != cudaSuccess) {
            throw std::runtime_error("cudaIpcOpenMemHandle failed");
          }
          pools[mem_key] = base;
        }
        const std::string ev_key = key_of(r.ipc_event_handle, sizeof(cudaIpcEventHandle_t));
        if (!events.count(ev_key)) {
          cudaIpcEventHandle_t h;
          std::memcpy(&h, r.ipc_event_handle, sizeof(h));
          cudaEvent_t e = nullptr;
          if (cudaIpcOpenEventHandle(&e, h) != cudaSuccess) throw std::runtime_error("cudaIpcOpenEventHandle failed");
          events[ev_key] = e;
        }
        // Read before release: inferd reuses this pool entry only after the Q2 slot is released.
        mask.resize(r.ipc_bytes);
        cudaStreamWaitEvent(stream, events[ev_key], 0);
        cudaMemcpyAsync(mask.data(), static_cast<char*>(pools[mem_key]) + r.ipc_offset, r.ipc_bytes,
                        cudaMemcpyDeviceToHost, stream);
        if (cudaStreamSynchronize(stream) != cudaSuccess) throw std::runtime_error("mask copy failed");
        uint64_t foreground = 0;
        for (uint8_t v : mask) foreground += v != 0;
        foreground_total += foreground;
        const bool sized = r.ipc_bytes == uint64_t(r.channels) * r.height * r.width;
        bool ok = sized && (foreground > 0) == (r.n_found > 0);
        if (r.n_peaks == r.n_found) {
          const auto* p = reinterpret_cast<const shm::PeakRecord*>(s.data() + shm::kPeaksOffset);
          uint64_t npix = 0;
          for (uint32_t i = 0; i < r.n_peaks; ++i) npix += p[i].npix;
          ok = ok && npix == foreground;
          ++checked;
        }
        if (!ok) {
          ++bad;
          std::cerr << "event " << r.event_id << ": mask does not match its peaks\n";
        }
        q2.release(std::move(s));
      }
      slots.clear();
    }
    for (auto& [k, base] : pools) cudaIpcCloseMemHandle(base);
    nlohmann::json summary{{"read", read},
                           {"checked", checked},
                           {"bad", bad},
                           {"without_mask", without_mask},
                           {"foreground_pixels", foreground_total}};
    std::cout << summary.dump() << std::endl;
    return (read == expect && bad == 0 && without_mask == 0) ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "inferd-ipc-consumer: " << e.what() << "\n";
    return 2;
  }
}

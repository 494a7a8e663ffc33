#pragma once
// CudaBackend: N-slot overlapped pipeline on one GPU (pipeline_slots, default 3).
//
//   h2d stream:     [copy run(s) of Q1 slots -> slot.d_raw] record h2d_end
//   compute stream: wait h2d_end; preprocess (dtype -> float, pad, instance norm); forward (eager or
//                   CUDA graph); crop logits into the slot; record fwd_end
//   d2h stream:     wait fwd_end; mask + peaks (CudaPeakFinder, results copied to pinned host
//                   memory); device masks; record post_end
//
// The host never waits per batch: it waits for a slot's post_end only when it needs that slot again
// (submit), when results are due (poll: event query only) or at flush. Q1 slots are released by a
// completion thread after their h2d_end (unless write_frames keeps them for Q2). Slots are used
// round-robin, so results come out in submission order. Stage times come from timing events.
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include <c10/cuda/CUDAStream.h>
#include <torch/torch.h>

#include "cuda_handles.hpp"
#include "cuda_model_runner.hpp"
#include "device_mask_pool.hpp"
#include "inferd/backend.hpp"
#include "peaks/cuda_peak_finder.hpp"
#include "tensor_ops.hpp"

namespace peaknet::inferd {

class CudaBackend final : public InferenceBackend {
 public:
  CudaBackend(const BackendOptions& options, std::unique_ptr<model::InferenceModel> model, BatchSink& sink);
  ~CudaBackend() override;

  std::string device_name() const override;
  void warm_up(const FrameShape& shape, uint32_t batch_size, uint32_t iterations) override;
  void submit(Batch&& batch) override;
  void poll() override;
  void flush() override;
  void swap_model(std::unique_ptr<model::InferenceModel> next) override;
  size_t in_flight() const override { return order_.size(); }
  nlohmann::json describe() const override;

 private:
  struct Slot {
    torch::Tensor d_raw;  ///< uint8 [max_batch_size * max_payload_bytes]: the H2D target
    CudaEvent h2d_start{cudaEventDefault}, h2d_end{cudaEventDefault};
    CudaEvent compute_start{cudaEventDefault}, pre_end{cudaEventDefault}, fwd_end{cudaEventDefault};
    CudaEvent post_start{cudaEventDefault}, post_end{cudaEventDefault};
    Batch batch;  ///< headers (+ Q1 slots with write_frames) of the batch in flight
    Padding pad;
    torch::Tensor frames;  ///< float (B*C, H, W): intensities for the peak finder (kept alive)
    torch::Tensor logits;  ///< cropped (B*C, 2, H, W) in the model's dtype (kept alive)
    torch::Tensor masks;   ///< device_masks: uint8 (B*C, H, W)
    peaks::CudaPeakFinder* finder = nullptr;
  };

  /// Pairs an H2D event with the Q1 slots it reads; a thread releases them once it passed.
  class InputReleaser {
   public:
    InputReleaser(int device, BatchSink& sink);
    ~InputReleaser();
    void add(cudaEvent_t h2d_done, std::vector<shm::ReadSlot>&& slots);
    void wait_idle();

   private:
    void loop(int device);
    BatchSink& sink_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<cudaEvent_t, std::vector<shm::ReadSlot>>> queue_;
    bool busy_ = false;
    bool stop_ = false;
    std::thread thread_;
  };

  peaks::CudaPeakFinder& finder_for(const FrameShape& shape, size_t slot);
  void enqueue_h2d(Slot& s, const Batch& batch);
  void enqueue_compute(Slot& s, const FrameShape& shape, int64_t events);
  void enqueue_postprocess(Slot& s, const FrameShape& shape, int64_t events);
  void complete_oldest();
  void ensure_graph(const FrameShape& shape);

  BackendOptions options_;
  BatchSink& sink_;
  torch::Device device_;
  c10::cuda::CUDAStream h2d_, compute_, d2h_;
  CudaModelRunner runner_;
  HostRegistration q1_registration_;
  std::vector<Slot> slots_;
  size_t next_slot_ = 0;
  std::deque<size_t> order_;  ///< busy slots, oldest first
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::vector<std::unique_ptr<peaks::CudaPeakFinder>>> finders_;
  std::unique_ptr<DeviceMaskPool> mask_pool_;
  std::unique_ptr<InputReleaser> releaser_;  ///< last member: joined first
};

}  // namespace peaknet::inferd

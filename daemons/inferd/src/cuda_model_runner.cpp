#include "cuda_model_runner.hpp"

#include <ATen/Context.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

namespace peaknet::inferd {
namespace {

double gib(size_t bytes) { return double(bytes) / double(1ull << 30); }

/// Bytes the device has handed out (all processes): before/after a capture = the graph's footprint.
size_t device_used_bytes() {
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) return 0;
  return total_bytes - free_bytes;
}

}  // namespace

CudaModelRunner::CudaModelRunner(std::unique_ptr<model::InferenceModel> model, torch::Device device,
                                 model::Precision precision, bool channels_last, bool use_graphs, bool cudnn_benchmark)
    : model_(std::move(model)),
      device_(device),
      precision_(precision),
      channels_last_(channels_last),
      use_graphs_(use_graphs),
      pool_(at::cuda::graph_pool_handle()) {
  // inferd runs a few fixed, padded shapes: with cudnn_benchmark cuDNN times its algorithms once per shape
  // during the warm-up (torch.backends.cudnn.benchmark, as the upstream anchors run) instead of its
  // heuristic pick. Off by default: the timed pick can differ between processes, and so can the last bits.
  if (cudnn_benchmark) at::globalContext().setBenchmarkCuDNN(true);
  model_->to(device_, precision_, channels_last_);
}

torch::Tensor CudaModelRunner::forward(const torch::Tensor& input) {
  if (channels_last_) return model_->forward(input.contiguous(torch::MemoryFormat::ChannelsLast));
  return model_->forward(input);
}

bool CudaModelRunner::has_graph(const std::vector<int64_t>& input_shape) const {
  return graphs_.count(input_shape) != 0;
}

torch::Tensor CudaModelRunner::run(const torch::Tensor& input, int64_t graph_rows) {
  if (use_graphs_ && input.size(0) <= graph_rows) {
    std::vector<int64_t> key = input.sizes().vec();
    key[0] = graph_rows;
    auto it = graphs_.find(key);
    if (it != graphs_.end()) {
      const int64_t n = input.size(0);
      it->second->input.narrow(0, 0, n).copy_(input, /*non_blocking=*/true);
      it->second->graph.replay();
      return it->second->output.narrow(0, 0, n);
    }
  }
  return forward(input);
}

void CudaModelRunner::prepare(const std::vector<int64_t>& input_shape, int iterations) {
  c10::InferenceMode guard;
  c10::cuda::CUDAGuard device_guard(device_);
  // Eager iterations first: cuDNN picks its algorithms and the caching allocator warms up (a capture
  // must not be the first run of anything).
  auto side = c10::cuda::getStreamFromPool(false, device_.index());
  {
    c10::cuda::CUDAStreamGuard stream_guard(side);
    torch::Tensor x = torch::randn(input_shape, torch::TensorOptions().device(device_));
    for (int i = 0; i < std::max(iterations, use_graphs_ ? 2 : 0); ++i) (void)forward(x);
    side.synchronize();
    if (!use_graphs_ || has_graph(input_shape)) return;
    // The eager runs left their activations in the caching allocator, and a capture cannot give cached
    // blocks back to the driver (cudaFree is illegal while capturing): without this the activations are
    // paid twice (eager cache + graph pool) and a full-batch 1920x1920 capture runs out of memory.
    c10::cuda::CUDACachingAllocator::emptyCache();
    const size_t used_before = device_used_bytes();
    auto g = std::make_unique<Graph>();
    g->input = x.clone();
#if TORCH_VERSION_MAJOR >= 2
    // Thread-local capture mode: the completion thread's event queries elsewhere stay legal.
    g->graph.capture_begin(pool_, cudaStreamCaptureModeThreadLocal);
#else
    g->graph.capture_begin(pool_);
#endif
    g->output = forward(g->input);
    g->graph.capture_end();
    g->graph.replay();
    side.synchronize();
    c10::cuda::CUDACachingAllocator::emptyCache();  // what the capture's own eager bookkeeping left
    const size_t used_after = device_used_bytes();
    spdlog::info(
        "CUDA graph captured for input {}: +{:.2f} GiB (graph pool shared by all graphs, static "
        "input/output); device {:.2f} GiB used",
        fmt::join(input_shape, "x"), gib(used_after > used_before ? used_after - used_before : 0), gib(used_after));
    graphs_.emplace(input_shape, std::move(g));
  }
}

void CudaModelRunner::replace_model(std::unique_ptr<model::InferenceModel> model) {
  model->to(device_, precision_, channels_last_);
  model_ = std::move(model);
  graphs_.clear();  // captured kernels point at the old weights
}

}  // namespace peaknet::inferd

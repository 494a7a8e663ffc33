#include <stdexcept>

#include "cpu_backend.hpp"
#include "inferd/backend.hpp"
#if defined(PEAKNET_INFERD_HAVE_CUDA)
#include <torch/cuda.h>

#include "cuda_backend.hpp"
#endif

namespace peaknet::inferd {

bool cuda_available() {
#if defined(PEAKNET_INFERD_HAVE_CUDA)
  return torch::cuda::is_available();
#else
  return false;
#endif
}

std::unique_ptr<InferenceBackend> make_backend(const BackendOptions& options,
                                               std::unique_ptr<model::InferenceModel> model, BatchSink& sink) {
  if (options.device == config::Device::kCpu) return std::make_unique<CpuBackend>(options, std::move(model), sink);
  if (options.device == config::Device::kCuda) {
#if defined(PEAKNET_INFERD_HAVE_CUDA)
    return std::make_unique<CudaBackend>(options, std::move(model), sink);
#else
    throw std::runtime_error("inferd was built without the CUDA backend (no CUDA LibTorch)");
#endif
  }
  throw std::invalid_argument("inferd device must be resolved to cpu or cuda, got " +
                              std::string(config::to_string(options.device)));
}

}  // namespace peaknet::inferd

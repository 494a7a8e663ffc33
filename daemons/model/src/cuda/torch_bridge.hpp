#pragma once
// Glue between the torch wrappers and the torch-free launchers: dtype mapping, launch checks, argument
// checks that name the op and the argument. Only included where CUDA LibTorch is present.
#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include <ATen/cuda/CUDAContext.h>
#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

inline ElementType element_type(torch::ScalarType t, const char* op, const char* what) {
  if (t == torch::kFloat) return ElementType::kFloat32;
  if (t == torch::kBFloat16) return ElementType::kBFloat16;
  throw std::invalid_argument(std::string(op) + ": " + what + " must be float32 or bfloat16, got " +
                              std::string(c10::toString(t)));
}

inline void check_launch(cudaError_t status, const char* op) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(op) + ": kernel launch failed: " + cudaGetErrorString(status));
}

/// t holds exactly n values of dtype on device (any shape): returned flattened and contiguous.
inline torch::Tensor per_channel(const torch::Tensor& t, int64_t n, torch::ScalarType dtype,
                                 const torch::Device& device, const char* op, const char* what) {
  if (!t.defined() || t.numel() != n || t.scalar_type() != dtype || t.device() != device)
    throw std::invalid_argument(std::string(op) + ": " + what + " must hold " + std::to_string(n) + " " +
                                std::string(c10::toString(dtype)) + " values on " + device.str());
  return t.reshape({n}).contiguous();
}

inline cudaStream_t current_stream() { return at::cuda::getCurrentCUDAStream(); }

}  // namespace peaknet::model::cuda

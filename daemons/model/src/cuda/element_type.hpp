#pragma once
// Element types the fused CUDA kernels read and write (torch-free, shared by the .cu launchers and the
// torch wrappers).
namespace peaknet::model::cuda {

enum class ElementType { kFloat32, kBFloat16 };

}  // namespace peaknet::model::cuda

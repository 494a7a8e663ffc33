#pragma once
// bench_inferd --gpus LIST: streaming events/s with one inferd process on the first listed GPU, then
// with one inferd process per listed GPU, all sharing one Q1 and one Q2 (production layout), and the
// scaling K GPUs / 1 GPU. The calling process must not have initialised CUDA or torch (it forks).
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_options.hpp"

namespace peaknet::bench {

/// Prints one line per measurement and the scaling line; returns the shape's JSON result.
/// std::runtime_error when an inferd process fails (the others are killed and every segment of the run
/// is unlinked first).
nlohmann::json multi_gpu_scaling(const Options& o, const Shape& s, const std::vector<int>& gpus);

}  // namespace peaknet::bench

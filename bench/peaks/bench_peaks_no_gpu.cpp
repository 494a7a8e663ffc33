// bench_peaks without CUDA: no GPU cases.
#include <cstdio>

#include "bench_result.hpp"

namespace peaknet::peaks::bench {

std::vector<BenchResult> run_gpu_benchmarks(const BenchOptions&) {
  std::fprintf(stderr, "bench_peaks: built without CUDA, GPU cases skipped\n");
  return {};
}

}  // namespace peaknet::peaks::bench

// Micro-benchmark of the fused depthwise 7x7 conv -> LayerNorm kernel (daemons/model/src/cuda/dwconv_layernorm.cu)
// at PeakNet-33M's backbone shapes: 16 images, stages 480^2 x 96, 240^2 x 192, 120^2 x 384, 60^2 x 768 with
// 3, 3, 9, 3 layers. Torch-free, so it builds in seconds with nvcc alone and runs under ncu:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I daemons/model/src/cuda -o /tmp/bench_dwconv
//        bench/model_forward/bench_dwconv_layernorm.cu daemons/model/src/cuda/dwconv_layernorm.cu   (one line)
//   /tmp/bench_dwconv [--iters N] [--stage S]
// Prints ms per launch, effective GB/s (fp32 input read + bf16 output written once), an output checksum per
// stage (the same for a variant that computes the same bits) and the 18-layer total.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "dwconv_layernorm.cuh"
#include "kernel_bench_util.cuh"

namespace {

using peaknet::model::cuda::DwconvLayerNormShape;
using peaknet::model::cuda::ElementType;
namespace bench = peaknet::bench;

struct Stage {
  int64_t size, channels;
  int layers;
};

}  // namespace

int main(int argc, char** argv) {
  int iters = 10, only = -1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) {
      iters = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--stage") && i + 1 < argc) {
      only = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--iters N] [--stage 0..3]\n", argv[0]);
      return 2;
    }
  }
  const int64_t batch = 16;
  const std::vector<Stage> stages{{480, 96, 3}, {240, 192, 3}, {120, 384, 9}, {60, 768, 3}};
  double total_ms = 0.0;
  for (int s = 0; s < static_cast<int>(stages.size()); ++s) {
    if (only >= 0 && s != only) continue;
    const Stage& st = stages[s];
    const DwconvLayerNormShape shape{batch, st.size, st.size, st.channels};
    const long long n = batch * st.size * st.size * st.channels;
    const long long c = st.channels;
    void* x = bench::random_buffer(n, /*bf16=*/false, 1);
    const auto* w = static_cast<const float*>(bench::random_buffer(49 * c, false, 2, 0.15f, 0.0f, true));
    void* b = bench::random_buffer(c, /*bf16=*/true, 3, 0.1f);
    const auto* ln_w = static_cast<const float*>(bench::random_buffer(c, false, 4));
    const auto* ln_b = static_cast<const float*>(bench::random_buffer(c, false, 5, 0.1f));
    void* y = nullptr;
    BENCH_CHECK(cudaMalloc(&y, n * 2));
    const float ms = bench::time_ms(iters, [&] {
      BENCH_CHECK(peaknet::model::cuda::launch_dwconv7_layernorm(x, ElementType::kFloat32, w, b, ln_w, ln_b, 1e-6f,
                                                                 shape, y, ElementType::kBFloat16, nullptr));
    });
    const double gbs = static_cast<double>(n) * 6.0 / (ms * 1e-3) / 1e9;
    std::printf("stage %d: %lldx%lld^2x%lld: %.3f ms/launch x %d layers = %.2f ms, %.0f GB/s, checksum %016llx\n", s,
                static_cast<long long>(batch), static_cast<long long>(st.size), c, ms, st.layers, ms * st.layers, gbs,
                bench::checksum(y, n * 2));
    total_ms += ms * st.layers;
    for (const void* p : std::initializer_list<const void*>{x, w, b, ln_w, ln_b, y})
      BENCH_CHECK(cudaFree(const_cast<void*>(p)));
  }
  std::printf("total: %.2f ms for the %s\n", total_ms, only >= 0 ? "stage" : "18 layers");
  return 0;
}

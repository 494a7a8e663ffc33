// Micro-benchmark of the fused depthwise 7x7 conv -> LayerNorm kernel (daemons/model/src/cuda/dwconv_layernorm.cu)
// at PeakNet-33M's backbone shapes: 16 images, stages 480^2 x 96, 240^2 x 192, 120^2 x 384, 60^2 x 768 with
// 3, 3, 9, 3 layers. Torch-free, so it builds in seconds with nvcc alone and runs under ncu:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I daemons/model/src/cuda bench/model_forward/bench_dwconv_layernorm.cu \
//        daemons/model/src/cuda/dwconv_layernorm.cu -o /tmp/bench_dwconv && /tmp/bench_dwconv [--iters N] [--stage S]
// Prints ms per launch, effective GB/s (fp32 input read + bf16 output written once) and the 18-layer total.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dwconv_layernorm.cuh"

namespace {

using peaknet::model::cuda::DwconvLayerNormShape;
using peaknet::model::cuda::ElementType;

#define CHECK(call)                                                                               \
  do {                                                                                            \
    const cudaError_t status_ = (call);                                                           \
    if (status_ != cudaSuccess) {                                                                 \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(status_)); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

__device__ float hash_uniform(unsigned long long i, unsigned seed) {
  unsigned long long z = i * 0x9E3779B97F4A7C15ull + seed;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<float>((z ^ (z >> 31)) >> 40) / static_cast<float>(1ull << 24) * 2.0f - 1.0f;
}
__global__ void fill_float(float* p, long long n, unsigned seed, float scale) {
  for (long long i = blockIdx.x * 1ll * blockDim.x + threadIdx.x; i < n; i += 1ll * gridDim.x * blockDim.x)
    p[i] = scale * hash_uniform(i, seed);
}
__global__ void fill_bf16(__nv_bfloat16* p, long long n, unsigned seed, float scale) {
  for (long long i = blockIdx.x * 1ll * blockDim.x + threadIdx.x; i < n; i += 1ll * gridDim.x * blockDim.x)
    p[i] = __float2bfloat16_rn(scale * hash_uniform(i, seed));
}
// bf16 weights held in fp32 (what the kernel takes).
__global__ void fill_bf16_as_float(float* p, long long n, unsigned seed, float scale) {
  for (long long i = blockIdx.x * 1ll * blockDim.x + threadIdx.x; i < n; i += 1ll * gridDim.x * blockDim.x)
    p[i] = __bfloat162float(__float2bfloat16_rn(scale * hash_uniform(i, seed)));
}

struct Stage {
  int64_t size, channels;
  int layers;
};

}  // namespace

int main(int argc, char** argv) {
  int iters = 10, only = -1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) iters = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--stage") && i + 1 < argc) only = std::atoi(argv[++i]);
    else {
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
    float *x, *w, *ln_w, *ln_b;
    __nv_bfloat16 *b, *y;
    CHECK(cudaMalloc(&x, n * sizeof(float)));
    CHECK(cudaMalloc(&y, n * sizeof(__nv_bfloat16)));
    CHECK(cudaMalloc(&w, 49 * st.channels * sizeof(float)));
    CHECK(cudaMalloc(&b, st.channels * sizeof(__nv_bfloat16)));
    CHECK(cudaMalloc(&ln_w, st.channels * sizeof(float)));
    CHECK(cudaMalloc(&ln_b, st.channels * sizeof(float)));
    fill_float<<<1024, 256>>>(x, n, 1, 1.0f);
    fill_bf16_as_float<<<64, 256>>>(w, 49 * st.channels, 2, 0.15f);
    fill_bf16<<<1, 256>>>(b, st.channels, 3, 0.1f);
    fill_float<<<1, 256>>>(ln_w, st.channels, 4, 1.0f);
    fill_float<<<1, 256>>>(ln_b, st.channels, 5, 0.1f);
    CHECK(cudaGetLastError());
    const auto launch = [&] {
      CHECK(peaknet::model::cuda::launch_dwconv7_layernorm(x, ElementType::kFloat32, w, b, ln_w, ln_b, 1e-6f, shape,
                                                           y, ElementType::kBFloat16, nullptr));
    };
    launch();  // warm-up
    CHECK(cudaDeviceSynchronize());
    cudaEvent_t start, stop;
    CHECK(cudaEventCreate(&start));
    CHECK(cudaEventCreate(&stop));
    CHECK(cudaEventRecord(start));
    for (int i = 0; i < iters; ++i) launch();
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    ms /= static_cast<float>(iters);
    // A checksum of the output, so a variant can be compared with the committed kernel bit for bit.
    std::vector<unsigned short> host(static_cast<size_t>(n));
    CHECK(cudaMemcpy(host.data(), y, n * sizeof(__nv_bfloat16), cudaMemcpyDeviceToHost));
    unsigned long long sum = 1469598103934665603ull;
    for (unsigned short v : host) sum = (sum ^ v) * 1099511628211ull;
    const double gbs = static_cast<double>(n) * 6.0 / (ms * 1e-3) / 1e9;
    std::printf("stage %d: %lldx%lld^2x%lld: %.3f ms/launch x %d layers = %.2f ms, %.0f GB/s, checksum %016llx\n", s,
                static_cast<long long>(batch), static_cast<long long>(st.size), static_cast<long long>(st.channels),
                ms, st.layers, ms * st.layers, gbs, sum);
    total_ms += ms * st.layers;
    CHECK(cudaFree(x));
    CHECK(cudaFree(y));
    CHECK(cudaFree(w));
    CHECK(cudaFree(b));
    CHECK(cudaFree(ln_w));
    CHECK(cudaFree(ln_b));
  }
  std::printf("total: %.2f ms for the %s\n", total_ms, only >= 0 ? "stage" : "18 layers");
  return 0;
}

#pragma once
// Shared by the torch-free kernel micro-benchmarks (bench_dwconv_layernorm, bench_bifpn_kernels): error
// checks, deterministic random fills, an output checksum (to compare kernel variants bit for bit) and
// CUDA-event timing.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#define BENCH_CHECK(call)                                                                              \
  do {                                                                                                 \
    const cudaError_t status_ = (call);                                                                \
    if (status_ != cudaSuccess) {                                                                      \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(status_)); \
      std::exit(1);                                                                                    \
    }                                                                                                  \
  } while (0)

// Internal linkage: each benchmark is one translation unit.
namespace peaknet::bench {
namespace {

/// Uniform in [-1, 1), a pure function of (i, seed): the same inputs in every run and variant.
__device__ float hash_uniform(unsigned long long i, unsigned seed) {
  unsigned long long z = i * 0x9E3779B97F4A7C15ull + seed;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<float>((z ^ (z >> 31)) >> 40) / static_cast<float>(1ull << 24) * 2.0f - 1.0f;
}

/// p[i] = offset + scale * hash_uniform(i, seed), stored as bf16 or fp32; as_bf16_values: fp32 storage of
/// bf16-rounded values (bf16 weights in the fp32 form a kernel takes).
__global__ void fill_random(void* p, bool bf16, bool as_bf16_values, long long n, unsigned seed, float scale,
                            float offset) {
  for (long long i = blockIdx.x * 1ll * blockDim.x + threadIdx.x; i < n; i += 1ll * gridDim.x * blockDim.x) {
    const float v = offset + scale * hash_uniform(i, seed);
    if (bf16) static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
    else static_cast<float*>(p)[i] = as_bf16_values ? __bfloat162float(__float2bfloat16_rn(v)) : v;
  }
}

/// A device buffer of n random values (never freed: the benchmarks are short-lived processes).
void* random_buffer(long long n, bool bf16, unsigned seed, float scale = 1.0f, float offset = 0.0f,
                    bool as_bf16_values = false) {
  void* p = nullptr;
  BENCH_CHECK(cudaMalloc(&p, n * (bf16 ? 2 : 4)));
  fill_random<<<1024, 256>>>(p, bf16, as_bf16_values, n, seed, scale, offset);
  BENCH_CHECK(cudaGetLastError());
  return p;
}

/// FNV-1a over the 16-bit words of a device buffer (bytes even).
unsigned long long checksum(const void* p, size_t bytes) {
  std::vector<unsigned short> host(bytes / 2);
  BENCH_CHECK(cudaMemcpy(host.data(), p, bytes, cudaMemcpyDeviceToHost));
  unsigned long long sum = 1469598103934665603ull;
  for (unsigned short w : host) sum = (sum ^ w) * 1099511628211ull;
  return sum;
}

/// Mean ms per call of launch() over iters calls after one warm-up call (CUDA events on the default stream).
template <class Launch>
float time_ms(int iters, Launch launch) {
  launch();
  BENCH_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  BENCH_CHECK(cudaEventCreate(&start));
  BENCH_CHECK(cudaEventCreate(&stop));
  BENCH_CHECK(cudaEventRecord(start));
  for (int i = 0; i < iters; ++i) launch();
  BENCH_CHECK(cudaEventRecord(stop));
  BENCH_CHECK(cudaEventSynchronize(stop));
  float ms = 0.0f;
  BENCH_CHECK(cudaEventElapsedTime(&ms, start, stop));
  BENCH_CHECK(cudaEventDestroy(start));
  BENCH_CHECK(cudaEventDestroy(stop));
  return ms / static_cast<float>(iters);
}

}  // namespace
}  // namespace peaknet::bench

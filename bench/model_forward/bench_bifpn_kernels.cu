// Micro-benchmark of the two BiFPN kernels of the fused forward at PeakNet-33M's 16x1920^2 shapes (levels
// 480^2, 240^2, 120^2, 60^2 x 256 channels; 2 blocks of 6 nodes), with the dtypes the model hands them:
//   fusion: bilinear resample of the neighbour level + weighted sum + depthwise scale -> bf16
//           (m-nodes: p bf16, neighbour p7 bf16 or m fp32; q-nodes: p bf16 + m fp32, neighbour q fp32);
//   LayerNorm rows + GELU + residual: pointwise-conv output bf16, residual p bf16 -> fp32.
// Torch-free, so it builds in seconds with nvcc and runs under ncu:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I daemons/model/src/cuda -o /tmp/bench_bifpn
//   bench/model_forward/bench_bifpn_kernels.cu
//        daemons/model/src/cuda/bifpn_fusion.cu daemons/model/src/cuda/layernorm_rows.cu   (one line)
// Prints ms per node, the effective GB/s (each input and output read or written once) and an output checksum
// per node (to compare a kernel variant bit for bit), then the totals for the 12 nodes of the forward.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bifpn_fusion.cuh"
#include "kernel_bench_util.cuh"
#include "layernorm_rows.cuh"

namespace {

using peaknet::model::cuda::BifpnFusionArgs;
using peaknet::model::cuda::ElementType;
using peaknet::model::cuda::LayerNormRowsArgs;
namespace bench = peaknet::bench;

constexpr long long kBatch = 16, kChannels = 256;
constexpr int kLevels = 4;
constexpr long long kSize[kLevels] = {480, 240, 120, 60};  // p4..p7 of the forward at 1920^2

size_t bytes_of(ElementType t) { return t == ElementType::kBFloat16 ? 2 : 4; }
long long elements(int level) { return kBatch * kSize[level] * kSize[level] * kChannels; }
void* random_buffer(long long n, ElementType t, unsigned seed, float scale = 1.0f, float offset = 0.0f) {
  return bench::random_buffer(n, t == ElementType::kBFloat16, seed, scale, offset);
}

struct Node {
  const char* name;
  int level;        // output level
  int same_count;   // 1: top-down m-node, 2: bottom-up q-node
  int other_level;  // the resampled neighbour
  ElementType same_type[2], other_type;
};

}  // namespace

int main(int argc, char** argv) {
  int iters = 10;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) {
      iters = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--iters N]\n", argv[0]);
      return 2;
    }
  }
  const ElementType bf16 = ElementType::kBFloat16, fp32 = ElementType::kFloat32;
  // One BiFPN block (the forward runs two): m6, m5, m4 top-down, q5, q6, q7 bottom-up.
  const std::vector<Node> nodes{{"m6", 2, 1, 3, {bf16, bf16}, bf16}, {"m5", 1, 1, 2, {bf16, bf16}, fp32},
                                {"m4", 0, 1, 1, {bf16, bf16}, fp32}, {"q5", 1, 2, 0, {bf16, fp32}, fp32},
                                {"q6", 2, 2, 1, {bf16, fp32}, fp32}, {"q7", 3, 2, 2, {bf16, bf16}, fp32}};
  // Inputs per level in both dtypes; every node writes its own outputs.
  void* level_bf16[kLevels];
  void* level_fp32[kLevels];
  for (int l = 0; l < kLevels; ++l) {
    level_bf16[l] = random_buffer(elements(l), bf16, 10 + l);
    level_fp32[l] = random_buffer(elements(l), fp32, 20 + l);
  }
  const auto level = [&](int l, ElementType t) { return t == bf16 ? level_bf16[l] : level_fp32[l]; };
  void* weights = random_buffer(3, fp32, 30, 0.4f, 0.6f);  // ReLU'd fusion weights: positive
  void* depthwise = random_buffer(kChannels, bf16, 31, 0.5f, 1.0f);
  void* ln_weight = random_buffer(kChannels, fp32, 32, 0.5f, 1.0f);
  void* ln_bias = random_buffer(kChannels, fp32, 33, 0.1f);

  double fusion_total = 0.0, layernorm_total = 0.0;
  for (const Node& node : nodes) {
    const long long n = elements(node.level);
    BifpnFusionArgs f;
    f.batch = kBatch, f.height = kSize[node.level], f.width = kSize[node.level], f.channels = kChannels;
    f.same_count = node.same_count;
    for (int i = 0; i < node.same_count; ++i) {
      f.same[i] = level(node.level, node.same_type[i]);
      f.same_type[i] = node.same_type[i];
    }
    f.other = level(node.other_level, node.other_type);
    f.other_type = node.other_type;
    f.other_height = f.other_width = kSize[node.other_level];
    f.source_per_output = static_cast<float>(kSize[node.other_level]) / static_cast<float>(kSize[node.level]);
    f.weights = static_cast<const float*>(weights);
    f.depthwise = depthwise;
    f.out_type = bf16;
    BENCH_CHECK(cudaMalloc(&f.y, n * 2));
    const float fusion_ms =
        bench::time_ms(iters, [&] { BENCH_CHECK(peaknet::model::cuda::launch_bifpn_fusion(f, nullptr)); });
    size_t fusion_bytes = n * 2 + elements(node.other_level) * bytes_of(node.other_type);
    for (int i = 0; i < node.same_count; ++i) fusion_bytes += n * bytes_of(node.same_type[i]);

    LayerNormRowsArgs ln;
    ln.x = f.y, ln.x_type = bf16;  // stands in for the pointwise conv's bf16 output
    ln.rows = n / kChannels, ln.channels = kChannels;
    ln.weight = static_cast<const float*>(ln_weight), ln.bias = static_cast<const float*>(ln_bias);
    ln.gelu = true;
    ln.residual = level(node.level, bf16), ln.residual_type = bf16;
    ln.y_type = fp32;
    BENCH_CHECK(cudaMalloc(&ln.y, n * 4));
    const float ln_ms =
        bench::time_ms(iters, [&] { BENCH_CHECK(peaknet::model::cuda::launch_layernorm_rows(ln, nullptr)); });
    const size_t ln_bytes = n * (2 + 2 + 4);

    std::printf(
        "%s %lldx%lld^2x%lld: fusion %.3f ms %.0f GB/s checksum %016llx | layernorm+gelu+residual %.3f ms "
        "%.0f GB/s checksum %016llx\n",
        node.name, kBatch, kSize[node.level], kChannels, fusion_ms, fusion_bytes / (fusion_ms * 1e-3) / 1e9,
        bench::checksum(f.y, n * 2), ln_ms, ln_bytes / (ln_ms * 1e-3) / 1e9, bench::checksum(ln.y, n * 4));
    fusion_total += 2.0 * fusion_ms;  // two BiFPN blocks
    layernorm_total += 2.0 * ln_ms;
    BENCH_CHECK(cudaFree(f.y));
    BENCH_CHECK(cudaFree(ln.y));
  }
  std::printf("total for the 12 nodes of the forward: fusion %.2f ms, layernorm+gelu+residual %.2f ms\n", fusion_total,
              layernorm_total);
  return 0;
}

// GPU cases of bench_peaks: CudaPeakFinder on batches of 1920^2 events already on the device, one
// stream, synchronised per batch and every result read back (what inferd pays per batch).
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdio>

#include "bench_result.hpp"
#include "peaks/cuda_peak_finder.hpp"
#include "synthetic_frames.hpp"

namespace peaknet::peaks::bench {
namespace {

constexpr double kGpuTarget = 2000.0;

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) { check(cudaMalloc(&ptr_, bytes), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

template <typename T>
void upload(const DeviceBuffer& dst, const std::vector<T>& src) {
  check(cudaMemcpy(dst.as<void>(), src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
}

}  // namespace

std::vector<BenchResult> run_gpu_benchmarks(const BenchOptions& o) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "bench_peaks: no CUDA device, GPU cases skipped\n");
    return {};
  }
  std::vector<BenchResult> results;
  const uint32_t batch = o.gpu_batch;
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  CudaPeakFinder finder(batch, 1, o.size, o.size, PeakParams{}.max_num_peak);

  auto run = [&](const std::string& name, double target, auto&& enqueue) {
    uint64_t peaks = 0, batches = 0;
    const Rate rate = measure_frames_per_s(o.seconds, batch, [&] {
      enqueue();
      check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
      for (uint32_t e = 0; e < batch; ++e) peaks += finder.n_found(e);
      ++batches;
    });
    results.push_back({name, rate.per_wall_s, 0.0, target, static_cast<double>(peaks) / (batches * batch)});
  };

  const SyntheticFrames realistic = make_frames(batch, o.size, o.size, o.blobs, 0.0, true);
  const size_t pixels = realistic.mask.size();
  DeviceBuffer mask(pixels), image(pixels * sizeof(float)), logits(2 * pixels * sizeof(float)),
      logits_bf16(2 * pixels * sizeof(__nv_bfloat16));
  upload(mask, realistic.mask);
  upload(image, realistic.image);
  upload(logits, realistic.logits);
  std::vector<__nv_bfloat16> bf16(realistic.logits.size());
  for (size_t i = 0; i < bf16.size(); ++i) bf16[i] = __float2bfloat16(realistic.logits[i]);
  upload(logits_bf16, bf16);
  const std::string batch_note = " (batch " + std::to_string(batch) + ")";

  run("gpu: mask -> peaks, realistic" + batch_note, kGpuTarget,
      [&] { finder.enqueue_from_mask(mask.as<uint8_t>(), image.as<float>(), batch, 1, stream); });
  run("gpu: f32 logits -> peaks, realistic" + batch_note, kGpuTarget,
      [&] { finder.enqueue_from_logits(logits.as<void>(), LogitsType::kF32, image.as<float>(), batch, 1, stream); });
  run("gpu: bf16 logits -> peaks, realistic" + batch_note, kGpuTarget, [&] {
    finder.enqueue_from_logits(logits_bf16.as<void>(), LogitsType::kBF16, image.as<float>(), batch, 1, stream);
  });
  for (const double density : {0.3, 0.5, 0.9}) {
    const SyntheticFrames dense = make_frames(batch, o.size, o.size, 0, density, false, 2);
    upload(mask, dense.mask);
    run("gpu: mask -> peaks, dense p=" + std::to_string(density).substr(0, 3) + batch_note, 0.0,
        [&] { finder.enqueue_from_mask(mask.as<uint8_t>(), image.as<float>(), batch, 1, stream); });
  }
  cudaStreamDestroy(stream);
  return results;
}

}  // namespace peaknet::peaks::bench

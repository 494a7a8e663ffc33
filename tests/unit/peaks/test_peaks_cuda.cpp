// The CUDA peak finder on the golden/peaks files and against the CPU finder on large frames.
// Label gpu: every test skips cleanly when no CUDA device is present.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "golden_case.hpp"
#include "peaks/cuda_peak_finder.hpp"
#include "peaks/peak_finder.hpp"
// The merge logic of the CUDA labeller, compiled for the host: emulated below with std::threads.
#include "../../../daemons/peaks/src/cuda_union_find.hpp"

namespace peaknet::peaks {
namespace {

bool have_cuda_device() {
  int devices = 0;
  return cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
}

/// Device copy of a host vector (freed on scope exit, also when an assertion fails).
class DeviceCopy {
 public:
  template <typename T>
  explicit DeviceCopy(const std::vector<T>& host) {
    if (host.empty()) return;
    EXPECT_EQ(cudaMalloc(&ptr_, host.size() * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceCopy() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

class Stream {
 public:
  Stream() { EXPECT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess); }
  ~Stream() { cudaStreamDestroy(stream_); }
  cudaStream_t get() const { return stream_; }
  void sync() const { ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess); }

 private:
  cudaStream_t stream_{};
};

const testing::Tolerance kGpuTolerance{1e-4, 1e-6, false};

void expect_same_as_cpu(const EventPeaks& gpu, const EventPeaks& cpu, const std::string& where) {
  ASSERT_EQ(gpu.n_found, cpu.n_found) << where;
  ASSERT_EQ(gpu.hit, cpu.hit) << where;
  ASSERT_EQ(gpu.peaks.size(), cpu.peaks.size()) << where;
  for (size_t i = 0; i < cpu.peaks.size(); ++i) {
    const std::string at = where + " peak " + std::to_string(i);
    ASSERT_EQ(gpu.peaks[i].panel, cpu.peaks[i].panel) << at;
    ASSERT_EQ(gpu.peaks[i].npix, cpu.peaks[i].npix) << at;
    EXPECT_NEAR(gpu.peaks[i].y, cpu.peaks[i].y, 1e-4) << at;
    EXPECT_NEAR(gpu.peaks[i].x, cpu.peaks[i].x, 1e-4) << at;
    EXPECT_NEAR(gpu.peaks[i].intensity_sum, cpu.peaks[i].intensity_sum,
                1e-6 * std::max(1.0, std::abs(cpu.peaks[i].intensity_sum)))
        << at;
    EXPECT_EQ(gpu.peaks[i].intensity_max, cpu.peaks[i].intensity_max) << at;
  }
}

class GoldenPeaksCuda : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!have_cuda_device()) GTEST_SKIP() << "no CUDA device";
    golden_ = testing::load_golden_case(GetParam());
  }
  testing::GoldenCase golden_;
};

TEST_P(GoldenPeaksCuda, TwoPanelEventsFromMaskMatch) {
  const auto& spec = golden_.spec["events_P2"];
  const uint32_t events = golden_.n / 2;
  const DeviceCopy mask(golden_.mask), image(golden_.image);
  CudaPeakFinder sut(events, 2, golden_.h, golden_.w, spec["max_num_peak"], spec["min_num_peak"]);
  Stream stream;
  sut.enqueue_from_mask(mask.as<uint8_t>(), image.as<float>(), events, 2, stream.get());
  stream.sync();
  for (const auto& event : spec["events"]) {
    testing::expect_event_matches(sut.result(event["event"]), event, kGpuTolerance,
                                  golden_.name + " P2 event " + event["event"].dump());
  }
}

TEST_P(GoldenPeaksCuda, OnePanelEventsMatchPerImageExpectations) {
  const DeviceCopy mask(golden_.mask), image(golden_.image), logits(golden_.logits);
  CudaPeakFinder sut(golden_.n, 1, golden_.h, golden_.w, golden_.h * golden_.w, 0);
  Stream stream;
  if (golden_.has_logits) {
    sut.enqueue_from_logits(logits.as<float>(), LogitsType::kF32, image.as<float>(), golden_.n, 1, stream.get());
  } else {
    sut.enqueue_from_mask(mask.as<uint8_t>(), image.as<float>(), golden_.n, 1, stream.get());
  }
  stream.sync();
  for (uint32_t i = 0; i < golden_.n; ++i) {
    const auto& expected = golden_.spec["images"][i];
    std::vector<double> intensity;
    if (golden_.has_image) intensity = expected["total_intensity"].get<std::vector<double>>();
    const EventPeaks got = sut.result(i);
    EXPECT_EQ(got.n_found, expected["num_components"].get<uint32_t>());
    testing::expect_peaks_equal(got.peaks, {}, expected["centroids_yx"].get<std::vector<std::array<double, 2>>>(),
                                intensity, expected["pixel_counts"].get<std::vector<uint32_t>>(), kGpuTolerance,
                                golden_.name + " image " + std::to_string(i));
  }
  EXPECT_EQ(sut.overflow_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenPeaksCuda, ::testing::ValuesIn(testing::golden_case_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenPeaksCuda);

/// Logits that encode a mask with the hardest comparisons: background = (+0, -0) tie, foreground =
/// (+0, smallest subnormal), which flush-to-zero would turn into a tie.
template <typename T>
std::vector<T> tie_logits_from_mask(const std::vector<uint8_t>& mask, size_t plane, uint16_t subnormal_bits,
                                    T (*from_bits)(uint16_t)) {
  const size_t images = mask.size() / plane;
  std::vector<T> logits(2 * mask.size());
  for (size_t img = 0; img < images; ++img) {
    for (size_t i = 0; i < plane; ++i) {
      logits[(2 * img) * plane + i] = from_bits(0x0000);                                               // +0
      logits[(2 * img + 1) * plane + i] = from_bits(mask[img * plane + i] ? subnormal_bits : 0x8000);  // -0
    }
  }
  return logits;
}

TEST(PeaksCuda, HalfAndBf16SubnormalLogitsGiveTheMaskResult) {
  if (!have_cuda_device()) GTEST_SKIP() << "no CUDA device";
  const auto golden = testing::load_golden_case("mask_u_shape");
  const uint32_t images = golden.n;
  const EventPeaks cpu0 = find_peaks(golden.mask.data(), {}, 1, golden.h, golden.w, {});
  const auto half_logits =
      tie_logits_from_mask<__half>(golden.mask, golden.plane(), 0x0001, [](uint16_t b) { return __ushort_as_half(b); });
  const auto bf16_logits = tie_logits_from_mask<__nv_bfloat16>(golden.mask, golden.plane(), 0x0001,
                                                               [](uint16_t b) { return __ushort_as_bfloat16(b); });
  const DeviceCopy d_half(half_logits), d_bf16(bf16_logits);
  CudaPeakFinder sut(images, 1, golden.h, golden.w, 2048);
  Stream stream;
  for (const auto& [type, data] :
       {std::pair{LogitsType::kF16, d_half.as<void>()}, std::pair{LogitsType::kBF16, d_bf16.as<void>()}}) {
    sut.enqueue_from_logits(data, type, nullptr, images, 1, stream.get());
    stream.sync();
    expect_same_as_cpu(sut.result(0), cpu0, "u_shape image 0, logits type " + std::to_string(int(type)));
  }
}

std::vector<uint8_t> blob_mask(uint32_t images, uint32_t h, uint32_t w, uint32_t blobs, double dense, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> mask(static_cast<size_t>(images) * h * w, 0);
  std::bernoulli_distribution bit(dense);
  for (uint32_t img = 0; img < images; ++img) {
    uint8_t* m = mask.data() + static_cast<size_t>(img) * h * w;
    if (dense > 0) {
      for (size_t i = 0; i < static_cast<size_t>(h) * w; ++i) m[i] = bit(rng);
      continue;
    }
    for (uint32_t b = 0; b < blobs; ++b) {
      const int cy = rng() % h, cx = rng() % w, r = 1 + rng() % 4;
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) {
          const int y = cy + dy, x = cx + dx;
          if (y >= 0 && x >= 0 && y < int(h) && x < int(w) && dy * dy + dx * dx <= r * r) m[size_t(y) * w + x] = 1;
        }
    }
  }
  return mask;
}

TEST(PeaksCuda, LargeFramesMatchTheCpuFinderSparseAndDense) {
  if (!have_cuda_device()) GTEST_SKIP() << "no CUDA device";
  constexpr uint32_t kEvents = 3, kPanels = 2, kH = 1920, kW = 1000;
  std::mt19937 rng(7);
  std::vector<float> image(static_cast<size_t>(kEvents) * kPanels * kH * kW);
  for (auto& v : image) v = std::uniform_real_distribution<float>(-5.0f, 500.0f)(rng);
  const DeviceCopy d_image(image);
  CudaPeakFinder sut(kEvents, kPanels, kH, kW, 2048, 10);
  Stream stream;
  uint64_t expected_overflow = 0;
  for (const double dense : {0.0, 0.3, 0.5, 0.7, 1.0}) {
    const auto mask = blob_mask(kEvents * kPanels, kH, kW, 60, dense, 11);
    const DeviceCopy d_mask(mask);
    sut.enqueue_from_mask(d_mask.as<uint8_t>(), d_image.as<float>(), kEvents, kPanels, stream.get());
    stream.sync();
    for (uint32_t e = 0; e < kEvents; ++e) {
      const size_t offset = static_cast<size_t>(e) * kPanels * kH * kW;
      const EventPeaks cpu =
          find_peaks(mask.data() + offset, {image.data() + offset, shm::DType::kF32}, kPanels, kH, kW, {2048, 10});
      expected_overflow += cpu.n_found - cpu.peaks.size();
      expect_same_as_cpu(sut.result(e), cpu, "density " + std::to_string(dense) + " event " + std::to_string(e));
    }
  }
  EXPECT_EQ(sut.overflow_count(), expected_overflow);
  EXPECT_GT(expected_overflow, 0u) << "dense masks exceed the cap";
}

/// Host stand-in for the device label memory: the same load / CAS / atomicMin on std::atomic_ref,
/// plus an optional yield every few operations so the threads interleave at fine grain.
struct HostLabels {
  uint32_t* labels;
  uint32_t yield_every;
  uint32_t ops = 0;
  void maybe_yield() {
    if (yield_every != 0 && ++ops % yield_every == 0) std::this_thread::yield();
  }
  uint32_t load(uint32_t i) {
    maybe_yield();
    return std::atomic_ref<uint32_t>(labels[i]).load(std::memory_order_relaxed);
  }
  uint32_t cas(uint32_t i, uint32_t expected, uint32_t desired) {
    maybe_yield();
    std::atomic_ref<uint32_t>(labels[i]).compare_exchange_strong(expected, desired, std::memory_order_relaxed);
    return expected;  // the value seen, like atomicCAS
  }
  void atomic_min(uint32_t i, uint32_t value) {
    maybe_yield();
    std::atomic_ref<uint32_t> ref(labels[i]);
    uint32_t seen = ref.load(std::memory_order_relaxed);
    while (value < seen && !ref.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {}
  }
};

/// Labels `mask` with the GPU merge logic: `threads` std::threads each take every pixel of a
/// shuffled order with stride `threads` (random interleavings), returns the
/// number of roots (= components: every set has exactly one).
uint32_t emulated_gpu_components(const std::vector<uint8_t>& mask, uint32_t h, uint32_t w, uint32_t threads,
                                 uint32_t seed) {
  const uint32_t plane = h * w;
  std::vector<uint32_t> labels(plane);
  for (uint32_t i = 0; i < plane; ++i) labels[i] = mask[i] ? i : union_find::kBackground;
  std::vector<uint32_t> order(plane);
  for (uint32_t i = 0; i < plane; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      HostLabels m{labels.data(), 1 + (seed + t) % 7};
      for (uint32_t k = t; k < plane; k += threads) {
        if (mask[order[k]]) union_find::merge_pixel(m, order[k], w);
      }
    });
  }
  for (auto& thread : pool) thread.join();
  uint32_t roots = 0;
  for (uint32_t i = 0; i < plane; ++i) roots += labels[i] == i;
  return roots;
}

TEST(PeaksCudaMergeLogic, ConcurrentUnionsOnTheHostLoseNoComponent) {
  // Runs without a GPU: the union-find code of the CUDA kernels under real thread interleavings.
  constexpr uint32_t kH = 96, kW = 128, kThreads = 8;
  for (const double dense : {0.3, 0.45, 0.6, 0.8}) {
    for (uint32_t seed = 1; seed <= 6; ++seed) {
      const auto mask = blob_mask(1, kH, kW, 0, dense, seed);
      const EventPeaks cpu = find_peaks(mask.data(), {}, 1, kH, kW, {0, 0});
      EXPECT_EQ(emulated_gpu_components(mask, kH, kW, kThreads, seed), cpu.n_found)
          << "density " << dense << " seed " << seed;
    }
  }
}

TEST(PeaksCuda, RejectsMoreEventsOrPanelsThanItWasSizedFor) {
  if (!have_cuda_device()) GTEST_SKIP() << "no CUDA device";
  CudaPeakFinder sut(2, 2, 8, 8, 16);
  Stream stream;
  EXPECT_THROW(sut.enqueue_from_mask(nullptr, nullptr, 3, 2, stream.get()), std::invalid_argument);
  EXPECT_THROW(sut.enqueue_from_mask(nullptr, nullptr, 2, 3, stream.get()), std::invalid_argument);
  EXPECT_THROW(sut.result(0), std::out_of_range) << "nothing enqueued yet";
}

}  // namespace
}  // namespace peaknet::peaks

#pragma once
// One measured case of bench_peaks and the shared options.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace peaknet::peaks::bench {

struct BenchOptions {
  uint32_t size = 1920;     ///< frames are size x size, one panel
  uint32_t blobs = 50;      ///< spots per realistic frame
  double seconds = 1.0;     ///< minimum measuring time per case
  uint32_t gpu_batch = 16;  ///< events per CudaPeakFinder enqueue
};

struct BenchResult {
  std::string name;
  double frames_per_s = 0;         ///< per wall-clock second
  double frames_per_cpu_s = 0;     ///< per second of this thread's CPU time (= per core; robust on a busy machine)
  double target_frames_per_s = 0;  ///< 0: informative case without a target
  double peaks_per_frame = 0;
};

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Rate {
  double per_wall_s = 0;
  double per_cpu_s = 0;
};

/// Calls `batch()` (which processes `frames_per_call` frames) until `seconds` of wall time have passed.
template <typename Fn>
Rate measure_frames_per_s(double seconds, uint32_t frames_per_call, Fn&& batch) {
  using Clock = std::chrono::steady_clock;
  batch();  // warm-up: scratch buffers grow, caches fill
  uint64_t frames = 0;
  const auto start = Clock::now();
  const double cpu_start = thread_cpu_seconds();
  double elapsed = 0;
  do {
    batch();
    frames += frames_per_call;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  const double cpu = thread_cpu_seconds() - cpu_start;
  return {static_cast<double>(frames) / elapsed, cpu > 0 ? static_cast<double>(frames) / cpu : 0.0};
}

/// GPU cases (bench_peaks_gpu.cpp); empty with a note on stderr when CUDA is absent or no device.
std::vector<BenchResult> run_gpu_benchmarks(const BenchOptions& options);

}  // namespace peaknet::peaks::bench

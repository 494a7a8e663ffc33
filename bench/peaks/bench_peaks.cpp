// bench_peaks: peak finding throughput in frames/s at 1920x1920 (one panel), CPU on one core and GPU
// (CudaPeakFinder, batches of events), for realistic (~50 spots) and dense masks. Prints the ratio to
// the targets: CPU >= 200 frames/s per core, GPU >= 2000 frames/s. See docs/BENCHMARKS.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench_result.hpp"
#include "peaks/peak_finder.hpp"
#include "synthetic_frames.hpp"

namespace peaknet::peaks::bench {
namespace {

constexpr double kCpuTarget = 200.0;
constexpr uint32_t kCpuFrames = 4;  // distinct frames cycled (beats the cache at 1920^2)

std::vector<BenchResult> run_cpu_benchmarks(const BenchOptions& o) {
  std::vector<BenchResult> results;
  const PeakParams params{};
  auto run_masks = [&](const std::string& name, const SyntheticFrames& f,
                       ImageView (*view)(const SyntheticFrames&, size_t), double target) {
    uint32_t next = 0;
    uint64_t peaks = 0, calls = 0;
    const Rate rate = measure_frames_per_s(o.seconds, 1, [&] {
      const size_t i = next++ % f.frames;
      peaks += find_peaks(f.mask.data() + i * f.plane(), view(f, i), 1, f.h, f.w, params).n_found;
      ++calls;
    });
    results.push_back({name, rate.per_wall_s, rate.per_cpu_s, target, static_cast<double>(peaks) / calls});
  };
  auto f32_view = [](const SyntheticFrames& f, size_t i) {
    return ImageView{f.image.data() + i * f.plane(), shm::DType::kF32};
  };
  auto u16_view = [](const SyntheticFrames& f, size_t i) {
    return ImageView{f.image_u16.data() + i * f.plane(), shm::DType::kU16};
  };

  const SyntheticFrames realistic = make_frames(kCpuFrames, o.size, o.size, o.blobs, 0.0, true);
  run_masks("cpu 1 core: mask -> peaks, realistic, f32 image", realistic, f32_view, kCpuTarget);
  run_masks("cpu 1 core: mask -> peaks, realistic, u16 image", realistic, u16_view, kCpuTarget);
  {
    uint32_t next = 0;
    uint64_t peaks = 0, calls = 0;
    const Rate rate = measure_frames_per_s(o.seconds, 1, [&] {
      const size_t i = next++ % realistic.frames;
      peaks += find_peaks_from_logits(realistic.logits.data() + 2 * i * realistic.plane(), f32_view(realistic, i), 1,
                                      realistic.h, realistic.w, params)
                   .n_found;
      ++calls;
    });
    results.push_back({"cpu 1 core: f32 logits -> mask -> peaks, realistic", rate.per_wall_s, rate.per_cpu_s,
                       kCpuTarget, static_cast<double>(peaks) / calls});
  }
  {
    // Bandwidth reference for the logits path (memory bound): copy the same logits frame by frame.
    std::vector<float> copy(2 * realistic.plane());
    uint32_t next = 0;
    const Rate rate = measure_frames_per_s(o.seconds, 1, [&] {
      const size_t i = next++ % realistic.frames;
      std::memcpy(copy.data(), realistic.logits.data() + 2 * i * realistic.plane(), copy.size() * sizeof(float));
    });
    results.push_back(
        {"cpu 1 core: memcpy of the f32 logits (bandwidth reference)", rate.per_wall_s, rate.per_cpu_s, 0.0, 0.0});
  }
  for (const double density : {0.3, 0.5, 0.9}) {
    const SyntheticFrames dense = make_frames(kCpuFrames, o.size, o.size, 0, density, false, 2);
    run_masks("cpu 1 core: mask -> peaks, dense p=" + std::to_string(density).substr(0, 3), dense, f32_view, 0.0);
  }
  return results;
}

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace
}  // namespace peaknet::peaks::bench

int main(int argc, char** argv) {
  using namespace peaknet::peaks::bench;
  BenchOptions options;
  bool cpu = true, gpu = true;
  std::string json_path;
  CLI::App app{"bench_peaks: peak finding frames/s (CPU one core, GPU CudaPeakFinder) vs targets"};
  app.add_option("--size", options.size, "frame edge in pixels (one panel, size x size)");
  app.add_option("--blobs", options.blobs, "spots per realistic frame");
  app.add_option("--seconds", options.seconds, "minimum measuring time per case");
  app.add_option("--gpu-batch", options.gpu_batch, "events per GPU enqueue");
  app.add_flag("!--no-cpu", cpu, "skip the CPU cases");
  app.add_flag("!--no-gpu", gpu, "skip the GPU cases");
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  std::vector<BenchResult> results;
  if (cpu) results = run_cpu_benchmarks(options);
  if (gpu) {
    for (auto& r : run_gpu_benchmarks(options)) results.push_back(std::move(r));
  }
  std::printf("bench_peaks  host=%s  commit=%s  frame=%ux%u  blobs=%u\n", host_name().c_str(), PEAKNET_GIT_COMMIT,
              options.size, options.size, options.blobs);
  std::printf(
      "ratio = frames per CPU-second of the measuring thread (per core) / target for CPU cases,\n"
      "        frames per wall-second / target for GPU cases\n");
  std::printf("%-60s %10s %10s %8s %8s %11s\n", "case", "frames/s", "per cpu-s", "target", "ratio", "peaks/frame");
  nlohmann::json out = {{"host", host_name()},
                        {"commit", PEAKNET_GIT_COMMIT},
                        {"size", options.size},
                        {"blobs", options.blobs},
                        {"cases", nlohmann::json::array()}};
  for (const auto& r : results) {
    const double rated = r.frames_per_cpu_s > 0 ? r.frames_per_cpu_s : r.frames_per_s;
    const std::string cpu_rate =
        r.frames_per_cpu_s > 0 ? std::to_string(static_cast<int64_t>(r.frames_per_cpu_s)) : "-";
    if (r.target_frames_per_s > 0) {
      std::printf("%-60s %10.1f %10s %8.0f %7.2fx %11.1f\n", r.name.c_str(), r.frames_per_s, cpu_rate.c_str(),
                  r.target_frames_per_s, rated / r.target_frames_per_s, r.peaks_per_frame);
    } else {
      std::printf("%-60s %10.1f %10s %8s %8s %11.1f\n", r.name.c_str(), r.frames_per_s, cpu_rate.c_str(), "-", "-",
                  r.peaks_per_frame);
    }
    out["cases"].push_back({{"name", r.name},
                            {"frames_per_s", r.frames_per_s},
                            {"frames_per_cpu_s", r.frames_per_cpu_s},
                            {"target_frames_per_s", r.target_frames_per_s},
                            {"peaks_per_frame", r.peaks_per_frame}});
  }
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
  return 0;
}

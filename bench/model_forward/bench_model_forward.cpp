// bench_model_forward: PeakNet forward throughput on random input (model only, input already on the
// device), with warm-up and CUDA-synchronised timing; prints frames/s and the ratio to the upstream
// PyTorch anchors measured on the H200 (shared reference anchors.md) when the shape matches.
// --profile adds the per-op-class time budget (OpProfiler: CUDA events between the forward's op laps)
// and compares its sum with the un-profiled forward time. Also prints the achieved TFLOP/s (FLOP count of the
// config, model/flop_count.hpp) and its share of the card's dense bf16 peak, and the GPU memory the forward
// needed. --compare fp8|bf16|fp32|unfused times a second model (same weights) the same way and reports how
// its output agrees with the first on synthetic Bragg frames (mask, peak-list F1 at 1 px, max logit error).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>

#include <CLI/CLI.hpp>
#include <torch/cuda.h>

#include "../peaks/synthetic_frames.hpp"
#include "model/flop_count.hpp"
#include "model/inference_model.hpp"
#include "model/op_profiler.hpp"
#include "peak_agreement.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime.h>
#endif
#if defined(PEAKNET_MODEL_HAVE_CUDA) && TORCH_VERSION_MAJOR >= 2
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#define PEAKNET_BENCH_CUDA_GRAPH 1
#endif

namespace {

using peaknet::model::PeakNetConfig;

PeakNetConfig config_named(const std::string& name) {
  if (name == "tiny") return PeakNetConfig::tiny();
  if (name == "33m") return PeakNetConfig::peaknet_33m();
  if (name == "673m") return PeakNetConfig::peaknet_673m();
  std::ifstream in(name);
  if (!in) throw std::runtime_error("--config: expected tiny | 33m | 673m | a JSON file, got '" + name + "'");
  return PeakNetConfig::from_json(nlohmann::json::parse(in));
}

struct Anchor {
  const char* what;
  double frames_per_s;
};

// Upstream PeakNet-33M, bf16 autocast, H200 (anchors.md).
std::vector<Anchor> anchors_for(const std::string& config, const std::string& precision, int64_t batch, int64_t h,
                                int64_t w) {
  if (config != "33m" || precision != "bf16") return {};
  if (batch == 16 && h == 1920 && w == 1920) return {{"upstream eager", 29.8}, {"upstream torch.compile", 69.7}};
  if (batch == 8 && h == 1920 && w == 1920) return {{"upstream eager", 29.4}};
  if (batch == 128 && h == 512 && w == 512) return {{"upstream eager", 366.6}};
  return {};
}

// Dense bf16 tensor-core peak of the card (vendor spec sheets, TFLOP/s, no sparsity); 0 when unknown.
double bf16_peak_tflops(const std::string& name) {
  const auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("H100") || has("H200") || has("GH200")) {
    if (has("PCIe")) return 756.5;
    if (has("NVL")) return 835.5;
    return 989.4;  // SXM
  }
  if (has("A100")) return 312.0;
  return 0.0;
}

std::string device_name(const torch::Device& device) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (device.is_cuda()) return at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0)->name;
#endif
  return device.str();
}

// Synthetic Bragg frames (bench/peaks): background 10 +- 1 and spots of radius 1-4 px, (N, 1, H, W) float32.
torch::Tensor bragg_frames(int64_t batch, int64_t height, int64_t width, const torch::Device& device) {
  const auto f = peaknet::peaks::bench::make_frames(static_cast<uint32_t>(batch), static_cast<uint32_t>(height),
                                                    static_cast<uint32_t>(width), /*blobs=*/400, 0.0, false, 7);
  return torch::from_blob(const_cast<float*>(f.image.data()), {batch, 1, height, width}, torch::kFloat)
      .clone()
      .to(device);
}

// A model ready to time: its forward (or its CUDA graph's replay) on a fixed input tensor.
struct Runner {
  std::unique_ptr<peaknet::model::InferenceModel> model;
  torch::Tensor input, output;
  std::function<void()> step;
#ifdef PEAKNET_BENCH_CUDA_GRAPH
  std::unique_ptr<at::cuda::CUDAGraph> graph;
#endif
};

void make_runner(Runner& r, const peaknet::model::ModelSpec& spec, peaknet::model::Precision precision,
                 const torch::Device& device, bool channels_last, bool cuda_graph, const torch::Tensor& input) {
  r.model = peaknet::model::load_model(spec);
  r.model->to(device, precision, channels_last);
  r.input = input;
  r.step = [&r] { r.output = r.model->forward(r.input); };
#ifdef PEAKNET_BENCH_CUDA_GRAPH
  if (cuda_graph) {
    if (!device.is_cuda()) throw std::runtime_error("--cuda-graph needs --device cuda");
    auto stream = c10::cuda::getStreamFromPool();
    {
      c10::cuda::CUDAStreamGuard guard(stream);
      for (int i = 0; i < 3; ++i) r.output = r.model->forward(r.input);  // warm-up on the capture stream (cuDNN autotune)
      torch::cuda::synchronize();
      r.graph = std::make_unique<at::cuda::CUDAGraph>();
      r.graph->capture_begin();
      r.output = r.model->forward(r.input);  // the graph's output buffer: rewritten by every replay
      r.graph->capture_end();
    }
    torch::cuda::synchronize();
    r.step = [&r] { r.graph->replay(); };
  }
#else
  if (cuda_graph) throw std::runtime_error("--cuda-graph needs a CUDA build of LibTorch >= 2.0");
#endif
}

// Median seconds of `repeats` timings of `iters` steps, after `warmup` steps.
double time_steps(const std::function<void()>& step, bool cuda, int64_t warmup, int64_t iters, int64_t repeats) {
  const auto sync = [&] {
    if (cuda) torch::cuda::synchronize();
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  sync();
  std::vector<double> seconds;
  for (int64_t r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iters; ++i) step();
    sync();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// GPU memory: the caching allocator's peak since the last reset, and what the device has in use overall.
void print_memory(const torch::Device& device) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (!device.is_cuda()) return;
  const int index = device.has_index() ? device.index() : 0;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) free_bytes = total_bytes = 0;
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  std::printf("  GPU memory: peak allocated %.2f GiB, reserved %.2f GiB (torch allocator); device in use %.2f of "
              "%.2f GiB\n",
              static_cast<double>(stats.allocated_bytes[0].peak) / kGiB,
              static_cast<double>(stats.reserved_bytes[0].current) / kGiB,
              static_cast<double>(total_bytes - free_bytes) / kGiB, static_cast<double>(total_bytes) / kGiB);
#else
  (void)device;
#endif
}

void reset_peak_memory(const torch::Device& device) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (device.is_cuda())
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device.has_index() ? device.index() : 0));
#else
  (void)device;
#endif
}

// The time budget per op class over `iterations` profiled forwards, against the un-profiled time.
void print_profile(const peaknet::model::OpProfiler& profiler, double unprofiled_ms) {
  const double n = static_cast<double>(profiler.iterations());
  const double total = profiler.ms_per_iteration();
  if (profiler.classes().empty()) {
    std::printf("  profile: no op laps recorded (the torchscript backend has no hooks)\n");
    return;
  }
  std::printf("\n  op time budget (%s, %lld profiled forwards; GB/s = (op inputs + outputs) / time, a lower bound on "
              "traffic):\n",
              profiler.uses_cuda_events() ? "CUDA events" : "steady clock", static_cast<long long>(profiler.iterations()));
  std::printf("  %-26s %8s %10s %7s %9s\n", "op class", "laps/it", "ms/iter", "%", "GB/s");
  std::vector<peaknet::model::OpClassTime> rows = profiler.classes();
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.total_ms > b.total_ms; });
  for (const auto& c : rows) {
    const double ms = c.total_ms / n;
    const double gbps = c.total_ms > 0 ? c.bytes / (c.total_ms * 1e-3) / 1e9 : 0.0;
    std::printf("  %-26s %8.0f %10.3f %6.1f%% %9.1f\n", c.op_class.c_str(), static_cast<double>(c.laps) / n, ms,
                total > 0 ? 100.0 * ms / total : 0.0, gbps);
  }
  std::printf("  %-26s %8s %10.3f %6.1f%%\n", "sum (profiled forward)", "", total, 100.0);
  std::printf("  un-profiled forward: %.3f ms/batch (profiled sum / un-profiled = %.3f)\n", unprofiled_ms,
              unprofiled_ms > 0 ? total / unprofiled_ms : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"PeakNet forward benchmark (random weights and input)"};
  std::string config_name = "33m", precision_name = "bf16", device_name_opt = "cuda", weights, compare;
  int64_t batch = 16, height = 1920, width = 1920, warmup = 5, iters = 20, repeats = 3;
  bool channels_last = false, cuda_graph = false, profile = false, fused = false;
  int64_t profile_iters = 10;
  double peak_tflops = 0.0;
  app.add_option("--config", config_name, "tiny | 33m | 673m | config JSON")->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--height", height)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--width", width)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--precision", precision_name, "fp32 | bf16 | fp16 | fp8")->capture_default_str();
  app.add_option("--device", device_name_opt, "cpu | cuda")->capture_default_str();
  app.add_option("--warmup", warmup)->capture_default_str();
  app.add_option("--iters", iters, "batches per timing")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "timings (median reported)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--weights", weights, "weights file (default: random init)");
  app.add_flag("--channels-last", channels_last);
  app.add_flag("--fused", fused, "fused CUDA kernels in the native model");
  app.add_flag("--cuda-graph", cuda_graph, "capture one forward in a CUDA graph and replay it (torch 2.x CUDA)");
  app.add_flag("--profile", profile, "also print the time per op class (CUDA events per op; not with --cuda-graph)");
  app.add_option("--profile-iters", profile_iters, "profiled forwards")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--peak-tflops", peak_tflops, "the card's dense bf16 peak (default: from the device name)");
  app.add_option("--compare", compare,
                 "also time a second model, same weights: fp8 | bf16 | fp32 (that precision) or unfused (fused "
                 "kernels off), and compare the outputs on synthetic Bragg frames");
  CLI11_PARSE(app, argc, argv);

  try {
    if (profile && cuda_graph) throw std::runtime_error("--profile cannot time ops inside a CUDA graph replay");
    const auto precision = peaknet::model::parse_precision(precision_name);
    const torch::Device device(device_name_opt);
    const bool cuda = device.is_cuda();
    if (cuda && !torch::cuda::is_available()) throw std::runtime_error("no CUDA device available");
    peaknet::model::ModelSpec spec;
    spec.config = config_named(config_name).to_json();
    spec.weights = weights;
    spec.random_init = weights.empty();
    spec.fused_kernels = fused;
    if (cuda) at::globalContext().setBenchmarkCuDNN(true);  // as the anchors (cudnn.benchmark on)
    const PeakNetConfig config = PeakNetConfig::from_json(spec.config);
    const torch::Tensor x = compare.empty()
                                ? torch::randn({batch, config.num_channels, height, width}, torch::TensorOptions().device(device))
                                : bragg_frames(batch, height, width, device);
    if (!compare.empty() && config.num_channels != 1) throw std::runtime_error("--compare needs a one-channel config");

    reset_peak_memory(device);
    Runner main_run;
    make_runner(main_run, spec, precision, device, channels_last, cuda_graph, x);
    const double median = time_steps(main_run.step, cuda, warmup, iters, repeats);
    const double ms_per_batch = 1e3 * median / static_cast<double>(iters);
    const double fps = static_cast<double>(batch * iters) / median;
    const std::string card = device_name(device);
    std::printf("bench_model_forward: config=%s input=%lldx%lldx%lldx%lld precision=%s device=%s (%s) channels_last=%d "
                "cuda_graph=%d fused=%d\n",
                config_name.c_str(), static_cast<long long>(batch), static_cast<long long>(config.num_channels),
                static_cast<long long>(height), static_cast<long long>(width), precision_name.c_str(),
                device_name_opt.c_str(), card.c_str(), int(channels_last), int(cuda_graph), int(fused));
    std::printf("  %.2f ms/batch, %.2f frames/s (median of %lld x %lld batches)\n", ms_per_batch, fps,
                static_cast<long long>(repeats), static_cast<long long>(iters));
    const double flop_per_frame = peaknet::model::forward_flops(config, height, width).total();
    const double tflops = flop_per_frame * fps / 1e12;
    if (peak_tflops <= 0.0) peak_tflops = cuda ? bf16_peak_tflops(card) : 0.0;
    std::printf("  %.3f TFLOP per frame (convs + linears, model/flop_count.hpp): %.1f TFLOP/s achieved", flop_per_frame / 1e12,
                tflops);
    if (peak_tflops > 0.0)
      std::printf(", %.1f %% of the card's dense bf16 peak (%.1f TFLOP/s)\n", 100.0 * tflops / peak_tflops, peak_tflops);
    else
      std::printf(" (bf16 peak of '%s' unknown: --peak-tflops)\n", card.c_str());
    print_memory(device);
    for (const auto& a : anchors_for(config_name, precision_name, batch, height, width))
      std::printf("  ratio vs %s (%.1f frames/s): %.2f\n", a.what, a.frames_per_s, fps / a.frames_per_s);
    if (profile) {
      peaknet::model::OpProfiler profiler(device);
      peaknet::model::ActiveOpProfiler active(profiler);
      for (int64_t i = 0; i < profile_iters; ++i) {
        profiler.begin_iteration();
        main_run.step();
        profiler.end_iteration();
      }
      print_profile(profiler, ms_per_batch);
    }
    if (!compare.empty()) {
      peaknet::model::ModelSpec other = spec;  // same config and seed: the same weights
      peaknet::model::Precision other_precision = precision;
      if (compare == "unfused") other.fused_kernels = false;
      else other_precision = peaknet::model::parse_precision(compare);
      // The first model's output, before the second model's warm-up runs (its graph pool is separate).
      main_run.step();
      if (cuda) torch::cuda::synchronize();
      const torch::Tensor reference = main_run.output.to(torch::kCPU, torch::kFloat);
      reset_peak_memory(device);
      Runner second;
      make_runner(second, other, other_precision, device, channels_last, cuda_graph, x);
      const double other_median = time_steps(second.step, cuda, warmup, iters, repeats);
      const double other_fps = static_cast<double>(batch * iters) / other_median;
      second.step();
      if (cuda) torch::cuda::synchronize();
      std::printf("compare: %s: %.2f ms/batch, %.2f frames/s, %.1f TFLOP/s; %s / %s%s speed = %.3f\n", compare.c_str(),
                  1e3 * other_median / static_cast<double>(iters), other_fps, flop_per_frame * other_fps / 1e12,
                  compare.c_str(), precision_name.c_str(), fused ? " fused" : "", other_fps / fps);
      print_memory(device);
      const auto agreement = peaknet::bench::compare_outputs(reference, second.output, 1.0);
      std::printf("compare: %s vs %s on %lld synthetic Bragg frames: mask agreement %.6f, peak-list F1 at 1 px %.6f "
                  "(%lld vs %lld peaks, %lld matched), max |logit difference| %.4g\n",
                  compare.c_str(), precision_name.c_str(), static_cast<long long>(batch), agreement.mask_agreement,
                  agreement.peak_f1, static_cast<long long>(agreement.peaks_a),
                  static_cast<long long>(agreement.peaks_b), static_cast<long long>(agreement.matched),
                  agreement.max_logit_error);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_model_forward: error: %s\n", e.what());
    return 1;
  }
}

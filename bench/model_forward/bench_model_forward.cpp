// bench_model_forward: PeakNet forward throughput on random input (model only, input already on the
// device), with warm-up and CUDA-synchronised timing; prints frames/s and the ratio to the upstream
// PyTorch anchors measured on the H200 (shared reference anchors.md) when the shape matches.
// --profile adds the per-op-class time budget (OpProfiler: CUDA events between the forward's op laps)
// and compares its sum with the un-profiled forward time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include <torch/cuda.h>
#include <CLI/CLI.hpp>

#include "model/inference_model.hpp"
#include "model/op_profiler.hpp"

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

// The time budget per op class over `iterations` profiled forwards, against the un-profiled time.
void print_profile(const peaknet::model::OpProfiler& profiler, double unprofiled_ms) {
  const double n = static_cast<double>(profiler.iterations());
  const double total = profiler.ms_per_iteration();
  if (profiler.classes().empty()) {
    std::printf("  profile: no op laps recorded (the torchscript backend has no hooks)\n");
    return;
  }
  std::printf(
      "\n  op time budget (%s, %lld profiled forwards; GB/s = (op inputs + outputs) / time, a lower bound on "
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
  std::string config_name = "33m", precision_name = "bf16", device_name = "cuda", weights;
  int64_t batch = 16, height = 1920, width = 1920, warmup = 5, iters = 20, repeats = 3;
  bool channels_last = false, cuda_graph = false, profile = false, fused = false;
  int64_t profile_iters = 10;
  app.add_option("--config", config_name, "tiny | 33m | 673m | config JSON")->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--height", height)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--width", width)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--precision", precision_name, "fp32 | bf16 | fp16")->capture_default_str();
  app.add_option("--device", device_name, "cpu | cuda")->capture_default_str();
  app.add_option("--warmup", warmup)->capture_default_str();
  app.add_option("--iters", iters, "batches per timing")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "timings (median reported)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--weights", weights, "weights file (default: random init)");
  app.add_flag("--channels-last", channels_last);
  app.add_flag("--fused", fused, "fused CUDA kernels (GELU+GRN) in the native model");
  app.add_flag("--cuda-graph", cuda_graph, "capture one forward in a CUDA graph and replay it (torch 2.x CUDA)");
  app.add_flag("--profile", profile, "also print the time per op class (CUDA events per op; not with --cuda-graph)");
  app.add_option("--profile-iters", profile_iters, "profiled forwards")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    if (profile && cuda_graph) throw std::runtime_error("--profile cannot time ops inside a CUDA graph replay");
    const auto precision = peaknet::model::parse_precision(precision_name);
    const torch::Device device(device_name);
    const bool cuda = device.is_cuda();
    if (cuda && !torch::cuda::is_available()) throw std::runtime_error("no CUDA device available");
    peaknet::model::ModelSpec spec;
    spec.config = config_named(config_name).to_json();
    spec.weights = weights;
    spec.random_init = weights.empty();
    spec.fused_kernels = fused;
    auto model = peaknet::model::load_model(spec);
    model->to(device, precision, channels_last);
    if (cuda) at::globalContext().setBenchmarkCuDNN(true);  // as the anchors (cudnn.benchmark on)

    const auto x =
        torch::randn({batch, model->config().num_channels, height, width}, torch::TensorOptions().device(device));
    const auto sync = [&] {
      if (cuda) torch::cuda::synchronize();
    };
    std::function<void()> step = [&] { model->forward(x); };

#ifdef PEAKNET_BENCH_CUDA_GRAPH
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    if (cuda_graph) {
      if (!cuda) throw std::runtime_error("--cuda-graph needs --device cuda");
      auto stream = c10::cuda::getStreamFromPool();
      {
        c10::cuda::CUDAStreamGuard guard(stream);
        for (int i = 0; i < 3; ++i) model->forward(x);  // warm-up on the capture stream (cuDNN autotune)
        sync();
        graph = std::make_unique<at::cuda::CUDAGraph>();
        graph->capture_begin();
        model->forward(x);
        graph->capture_end();
      }
      sync();
      step = [&] { graph->replay(); };
    }
#else
    if (cuda_graph) throw std::runtime_error("--cuda-graph needs a CUDA build of LibTorch >= 2.0");
#endif

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
    const double median = seconds[seconds.size() / 2];
    const double ms_per_batch = 1e3 * median / static_cast<double>(iters);
    const double fps = static_cast<double>(batch * iters) / median;
    std::printf(
        "bench_model_forward: config=%s input=%lldx%lldx%lldx%lld precision=%s device=%s channels_last=%d "
        "cuda_graph=%d fused=%d\n",
        config_name.c_str(), static_cast<long long>(batch), static_cast<long long>(model->config().num_channels),
        static_cast<long long>(height), static_cast<long long>(width), precision_name.c_str(), device_name.c_str(),
        int(channels_last), int(cuda_graph), int(fused));
    std::printf("  %.2f ms/batch, %.2f frames/s (median of %lld x %lld batches)\n", ms_per_batch, fps,
                static_cast<long long>(repeats), static_cast<long long>(iters));
    for (const auto& a : anchors_for(config_name, precision_name, batch, height, width))
      std::printf("  ratio vs %s (%.1f frames/s): %.2f\n", a.what, a.frames_per_s, fps / a.frames_per_s);
    if (profile) {
      peaknet::model::OpProfiler profiler(device);
      peaknet::model::ActiveOpProfiler active(profiler);
      for (int64_t i = 0; i < profile_iters; ++i) {
        profiler.begin_iteration();
        step();
        profiler.end_iteration();
      }
      print_profile(profiler, ms_per_batch);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_model_forward: error: %s\n", e.what());
    return 1;
  }
}

// bench_inferd: how much of the model's own throughput the streaming pipeline keeps.
//   model-only: the same model/precision/graphs on an input already resident on the device;
//   streaming:  synthetic events -> Q1 (producer thread) -> InferdService -> Q2 (consumer thread);
//   h2d:        pitched copies of B Q1 slots from the registered ring (CUDA only).
// Prints one line per measurement and the ratios, then a JSON summary. Examples:
//   bench_inferd --device cuda --model 33m --precision bf16 --shapes 16x1x1920x1920,128x1x512x512
//   bench_inferd --device cpu --model tiny --shapes 4x1x256x256 --iters 5         (CPU smoke run)
// Multi-GPU scaling (--gpus LIST): streaming only, with ONE INFERD PROCESS PER GPU sharing Q1 and Q2
// (production layout): first one inferd on the first listed GPU, then one on each listed GPU; prints both
// events/s, the scaling K GPUs / 1 GPU and efficiency = scaling / K (multi_gpu_scaling.hpp). The bench
// process forks the inferds and never touches CUDA itself, so model-only and H2D are not measured here.
//   bench_inferd --device cuda --model 33m --precision bf16 --shapes 16x1x1920x1920 --iters 20 --gpus 0,1
//   bench_inferd --device cpu --model tiny --shapes 4x1x256x256 --iters 3 --gpus 0,1  (CPU smoke run)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "bench_options.hpp"
#include "common/config/suite_config.hpp"
#include "inferd/backend.hpp"
#include "inferd/inferd_service.hpp"
#include "model/inference_model.hpp"
#include "multi_gpu_scaling.hpp"
#include "shm/counter_block.hpp"
#include "shm/ring.hpp"
#include "tensor_ops.hpp"
#if defined(PEAKNET_INFERD_HAVE_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <torch/cuda.h>

#include "cuda_model_runner.hpp"
#endif

using namespace peaknet;
using bench::model_config;
using bench::Options;
using bench::Shape;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

void device_sync(const Options& o) {
#if defined(PEAKNET_INFERD_HAVE_CUDA)
  if (o.device == "cuda") torch::cuda::synchronize();
#endif
}

/// Frames/s of forward() alone on a resident input (padding/graphs as inferd would use them).
double model_only(const Options& o, const Shape& s) {
  c10::InferenceMode guard;
  model::ModelSpec spec{model_config(o.model), "", "native", true, 1, o.fused};
  auto m = model::load_model(spec);
  const auto pad = inferd::padding_for(uint32_t(s.h), uint32_t(s.w), 32);
  const std::vector<int64_t> shape{s.b * s.c, 1, s.h + pad.bottom, s.w + pad.right};
  const auto precision = model::parse_precision(o.precision);
  std::function<void()> step;
#if defined(PEAKNET_INFERD_HAVE_CUDA)
  std::unique_ptr<inferd::CudaModelRunner> runner;
  torch::Tensor x;
  if (o.device == "cuda") {
    torch::Device dev(torch::kCUDA, o.gpu);
    runner = std::make_unique<inferd::CudaModelRunner>(std::move(m), dev, precision, o.channels_last, o.graphs,
                                                       /*cudnn_benchmark=*/true);
    runner->prepare(shape, o.warmup);
    x = torch::randn(shape, torch::TensorOptions().device(dev));
    step = [&] { (void)runner->run(x, shape[0]); };
  }
#endif
  torch::Tensor xc;
  if (!step) {
    m->to(torch::kCPU, precision, o.channels_last);
    xc = torch::randn(shape);
    for (int i = 0; i < o.warmup; ++i) (void)m->forward(xc);
    step = [&] { (void)m->forward(xc); };
  }
  device_sync(o);
  const auto t0 = Clock::now();
  for (int i = 0; i < o.iters; ++i) step();
  device_sync(o);
  const double s_elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
#if defined(PEAKNET_INFERD_HAVE_CUDA)
  if (runner) {
    // Give the model-only run's activations and graph pool back to the driver: inferd (same process)
    // warms up and captures next, and a capture cannot free cached blocks itself.
    runner.reset();
    x = torch::Tensor();
    c10::cuda::CUDACachingAllocator::emptyCache();
  }
#endif
  return double(o.iters * s.b) / s_elapsed;
}

/// Events/s through Q1 -> InferdService -> Q2, timed from the first to the last Q2 record.
double streaming(const Options& o, const Shape& s, json& stats) {
  const std::string run = fmt::format("bench-inferd-{}", getpid());
  const int64_t q1_slots = std::max<int64_t>(64, 4 * s.b * o.slots);
  const json j = bench::streaming_config(o, s, run, q1_slots, o.gpu);
  const auto cfg = config::parse_suite_config(j);
  for (const auto& n : {run + "-q1", run + "-q2"}) shm::Ring::unlink(n);
  auto service = std::make_unique<inferd::InferdService>(cfg);
  const uint64_t total = uint64_t(s.b) * (o.iters + 1);  // +1 batch to fill the pipeline (not timed)
  // A bench that dies must say why: an exception escaping here would otherwise end in std::terminate
  // with the reason lost (joinable threads, unflushed stdout).
  const auto fail = [](const char* where, const std::exception& e) {
    std::fprintf(stderr, "bench_inferd: %s: %s\n", where, e.what());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(1);
  };
  std::thread producer([&] {
    try {
      shm::Ring q1 = shm::Ring::attach(run + "-q1");
      const std::vector<float> frame = bench::synthetic_frame(s);
      for (uint64_t id = 0; id < total; ++id) {
        auto slot = q1.acquire(std::chrono::milliseconds(60'000));
        if (!slot) break;
        bench::write_synthetic_event(slot->data(), id, s, frame);
        q1.publish(std::move(*slot));
      }
      q1.finish_producing();
    } catch (const std::exception& e) {
      fail("Q1 producer", e);
    }
  });
  Clock::time_point first{}, last{};
  uint64_t seen = 0;
  std::thread consumer([&] {
    try {
      shm::Ring q2 = shm::Ring::attach(run + "-q2");
      std::vector<shm::ReadSlot> got;
      while (seen < total && q2.claim(got, 256, std::chrono::milliseconds(120'000)) > 0) {
        for (auto& r : got) q2.release(std::move(r));
        seen += got.size();
        got.clear();
        if (seen >= uint64_t(s.b) && first == Clock::time_point{}) first = Clock::now();
        last = Clock::now();
      }
    } catch (const std::exception& e) {
      fail("Q2 consumer", e);
    }
  });
  try {
    service->run();
  } catch (const std::exception& e) {
    fail("inferd service", e);
  }
  producer.join();
  consumer.join();
  stats = service->stats();
  const std::string block = service->counter_block_name();
  service.reset();
  for (const auto& n : {run + "-q1", run + "-q2"}) shm::Ring::unlink(n);
  shm::CounterBlock::unlink(block);
  const double timed = std::chrono::duration<double>(last - first).count();
  return timed > 0 ? double(seen - uint64_t(s.b)) / timed : 0.0;
}

/// GB/s of B pitched slot copies from a registered host area, as the pipeline issues them.
double h2d_gbps(const Options& o, const Shape& s) {
#if defined(PEAKNET_INFERD_HAVE_CUDA)
  if (o.device != "cuda") return 0.0;
  cudaSetDevice(o.gpu);
  const uint64_t payload = uint64_t(s.c * s.h * s.w) * 4;
  const uint64_t slot_bytes = bench::q1_slot_bytes(s);
  const size_t bytes = slot_bytes * size_t(s.b);
  void* host = nullptr;
  if (posix_memalign(&host, 4096, bytes) != 0) return 0.0;
  std::memset(host, 1, bytes);
  cudaHostRegister(host, bytes, cudaHostRegisterDefault);
  void* dev = nullptr;
  cudaMalloc(&dev, payload * s.b);
  cudaStream_t stream;
  cudaStreamCreate(&stream);
  auto copy = [&] {
    cudaMemcpy2DAsync(dev, payload, static_cast<char*>(host) + shm::kPayloadOffset, slot_bytes, payload, size_t(s.b),
                      cudaMemcpyHostToDevice, stream);
  };
  copy();
  cudaStreamSynchronize(stream);
  const int reps = 20;
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) copy();
  cudaStreamSynchronize(stream);
  const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
  cudaStreamDestroy(stream);
  cudaFree(dev);
  cudaHostUnregister(host);
  free(host);
  return double(payload * s.b * reps) / sec / 1e9;
#else
  return 0.0;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_inferd: streaming vs model-only throughput of inferd (ratios from one run)"};
  Options o;
  app.add_option("--device", o.device, "cpu | cuda");
  app.add_option("--gpu", o.gpu, "CUDA device index");
  app.add_option("--gpus", o.gpus,
                 "comma-separated CUDA device indices: multi-GPU scaling, one inferd process per GPU");
  app.add_option("--model", o.model, "33m | tiny (random weights)");
  app.add_option("--precision", o.precision, "fp32 | bf16 | fp16");
  app.add_option("--shapes", o.shapes, "comma-separated BxCxHxW (B events of C panels)");
  app.add_option("--iters", o.iters, "timed batches per measurement");
  app.add_option("--warmup", o.warmup, "warm-up batches");
  app.add_option("--slots", o.slots, "pipeline_slots");
  app.add_flag("--cuda-graphs", o.graphs, "capture the forward pass");
  app.add_flag("--channels-last", o.channels_last, "NHWC model");
  app.add_flag("--fused", o.fused, "fused CUDA kernels (inferd.model.fused_kernels)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    json summary = {{"bench", "bench_inferd"},   {"device", o.device},      {"model", o.model},
                    {"precision", o.precision},  {"cuda_graphs", o.graphs}, {"fused_kernels", o.fused},
                    {"pipeline_slots", o.slots}, {"iters", o.iters},        {"results", json::array()}};
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    summary["host"] = host;
    if (!o.gpus.empty()) {
      // No CUDA/torch in this process before (or between) the forks: the inferd children need their own.
      const std::vector<int> gpus = bench::parse_gpu_list(o.gpus);
      summary["mode"] = "multi_gpu";
      summary["gpus"] = gpus;
      for (const Shape& s : bench::parse_shapes(o.shapes)) {
        summary["results"].push_back(bench::multi_gpu_scaling(o, s, gpus));
      }
      std::cout << summary.dump() << std::endl;
      return 0;
    }
    for (const Shape& s : bench::parse_shapes(o.shapes)) {
      const double model_fps = model_only(o, s);
      json stats;
      const double stream_fps = streaming(o, s, stats);
      const double gbps = h2d_gbps(o, s);
      const double ratio = model_fps > 0 ? stream_fps / model_fps : 0.0;
      std::cout << fmt::format(
          "{} {}: model-only {:.1f} events/s, streaming {:.1f} events/s, "
          "streaming/model-only {:.3f}",
          s.text(), o.precision, model_fps, stream_fps, ratio);
      if (gbps > 0) std::cout << fmt::format(", H2D {:.1f} GB/s", gbps);
      std::cout << std::endl;
      summary["results"].push_back({{"shape", s.text()},
                                    {"model_only_events_per_s", model_fps},
                                    {"streaming_events_per_s", stream_fps},
                                    {"ratio", ratio},
                                    {"h2d_gbps", gbps},
                                    {"inferd_counters", stats["counters"]}});
    }
    std::cout << summary.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_inferd: " << e.what() << "\n";
    return 1;
  }
}

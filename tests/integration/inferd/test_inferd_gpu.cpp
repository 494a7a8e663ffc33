// GPU checks of the CUDA pipeline (label gpu; GTEST_SKIP without CUDA): bf16 + CUDA graphs against
// the CPU fp32 reference (tolerances from golden/model/README: bf16 mask agreement ~99%), graphs vs
// eager bit-identical, and device masks read back through CUDA IPC by a separate consumer process.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "inferd/backend.hpp"
#include "inferd_golden.hpp"

using namespace peaknet;
using namespace peaknet::inferd;
using namespace peaknet::inferd::testing;
using nlohmann::json;

namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << "no CUDA backend in this build or no GPU visible"

json gpu_patch(const std::string& precision, bool graphs) {
  return {{"device", "cuda"}, {"precision", precision}, {"cuda_graphs", graphs},
          {"warmup_shape", {1, 160, 224}}, {"pipeline_slots", 3}};
}

/// Sum of npix over the kept peaks: the mask's foreground (every foreground pixel is in one peak).
uint64_t foreground(const std::vector<shm::PeakRecord>& peaks) {
  uint64_t n = 0;
  for (const auto& p : peaks) n += p.npix;
  return n;
}

}  // namespace

TEST(InferdGpu, Bf16WithCudaGraphsAgreesWithTheCpuReference) {
  SKIP_WITHOUT_CUDA();
  ShmRun run("gpu-bf16");
  const auto frames = make_frames();
  json stats;
  const auto got = run_inferd(run, frames, 4, false, &stats, gpu_patch("bf16", true));
  ASSERT_EQ(got.size(), frames.size());
  EXPECT_GE(stats["backend"]["graphs_captured"].get<int>(), 1);
  EXPECT_EQ(stats["backend"]["q1_registered"], true);

  auto reference = model::load_model(model::ModelSpec{tiny_config(), kGolden + "tiny.safetensors"});
  reference->to(torch::kCPU, model::Precision::kFp32, false);
  uint64_t fg_ref = 0, fg_gpu = 0;
  for (const auto& f : frames) {
    const auto want = reference_peaks(*reference, f, {2048, 3});
    const auto& r = got.at(f.header.event_id);
    fg_ref += foreground(want.peaks);
    fg_gpu += foreground(r.peaks);
    EXPECT_NEAR(double(r.header.n_found), double(want.n_found), 2.0 + 0.1 * want.n_found)
        << "event " << f.header.event_id;
  }
  ASSERT_GT(fg_ref, 0u);
  EXPECT_NEAR(double(fg_gpu), double(fg_ref), 0.05 * double(fg_ref));
}

TEST(InferdGpu, GraphReplayGivesTheSameResultsAsEager) {
  SKIP_WITHOUT_CUDA();
  const auto frames = make_frames();
  ShmRun run_a("gpu-eager"), run_b("gpu-graph");
  const auto eager = run_inferd(run_a, frames, 4, false, nullptr, gpu_patch("bf16", false));
  const auto graph = run_inferd(run_b, frames, 4, false, nullptr, gpu_patch("bf16", true));
  ASSERT_EQ(eager.size(), graph.size());
  for (const auto& [id, e] : eager) {
    const auto& g = graph.at(id);
    EXPECT_EQ(e.header.n_found, g.header.n_found) << id;
    ASSERT_EQ(e.peaks.size(), g.peaks.size()) << id;
    for (size_t i = 0; i < e.peaks.size(); ++i) {
      EXPECT_EQ(e.peaks[i].npix, g.peaks[i].npix);
      EXPECT_DOUBLE_EQ(e.peaks[i].y, g.peaks[i].y);
    }
  }
}

TEST(InferdGpu, Fp32OnTheGpuMatchesTheCpuClosely) {
  SKIP_WITHOUT_CUDA();
  ShmRun run("gpu-fp32");
  const auto frames = make_frames();
  const auto got = run_inferd(run, frames, 4, false, nullptr, gpu_patch("fp32", false));
  auto reference = model::load_model(model::ModelSpec{tiny_config(), kGolden + "tiny.safetensors"});
  reference->to(torch::kCPU, model::Precision::kFp32, false);
  for (const auto& f : frames) {
    const auto want = reference_peaks(*reference, f, {2048, 3});
    const auto& r = got.at(f.header.event_id);
    // TF32 convolutions may flip a few near-tie pixels; the component count barely moves.
    EXPECT_NEAR(double(r.header.n_found), double(want.n_found), 1.0 + 0.02 * want.n_found);
    EXPECT_NEAR(double(foreground(r.peaks)), double(foreground(want.peaks)), 0.01 * foreground(want.peaks) + 2);
  }
}

TEST(InferdGpu, DeviceMasksAreReadableThroughCudaIpcFromAnotherProcess) {
  SKIP_WITHOUT_CUDA();
  ShmRun run("gpu-ipc");
  const auto frames = make_frames();
  json patch = gpu_patch("bf16", false);
  patch["device_masks"] = true;
  const auto cfg = config::parse_suite_config(suite_json(run, 4, false, patch));
  shm::Ring q1 = shm::Ring::open_or_create(ring_options(run.q1(), 16, 262144));
  for (const auto& f : frames) publish_event(q1, f.header, f.pixels.data_ptr<float>());
  q1.finish_producing();
  auto sut = InferdService::create(cfg);
  ASSERT_EQ(sut->run(), 0);
  // The pool stays exported while `sut` lives; the consumer (another process: IPC handles cannot be
  // opened by their exporter) reads every record.
  const std::string cmd = std::string(PEAKNET_BINARY_DIR "/daemons/inferd/inferd-ipc-consumer --q2 ") +
                          run.q2() + " --expect " + std::to_string(frames.size());
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[512] = {};
  std::string out;
  while (fgets(line, sizeof(line), pipe)) out += line;
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  const json summary = json::parse(out);
  EXPECT_EQ(summary["read"], frames.size());
  EXPECT_EQ(summary["bad"], 0);
  EXPECT_GT(summary["foreground_pixels"].get<uint64_t>(), 0u);
}

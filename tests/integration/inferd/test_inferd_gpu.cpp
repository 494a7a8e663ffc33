// GPU checks of the CUDA pipeline (label gpu; GTEST_SKIP without CUDA): bf16 + CUDA graphs against
// the CPU fp32 reference, graphs vs eager bit-identical, fp32 on the GPU close to the CPU, and device
// masks read back through CUDA IPC by a separate consumer process.
// bf16 criterion (golden/model/README): mask agreement >= 98% with the fp32 mask. A pixel flipped near
// the threshold can split or merge components, so per-event peak COUNTS are not a bf16 criterion;
// instead every confident reference peak must be found at the same place, and counts only in aggregate.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "inferd/backend.hpp"
#include "inferd_golden.hpp"
#include "peak_match.hpp"

using namespace peaknet;
using namespace peaknet::inferd;
using namespace peaknet::inferd::testing;
using nlohmann::json;

namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << "no CUDA backend in this build or no GPU visible"

json gpu_patch(const std::string& precision, bool graphs) {
  return {{"device", "cuda"},
          {"precision", precision},
          {"cuda_graphs", graphs},
          {"warmup_shape", {1, 160, 224}},
          {"pipeline_slots", 3}};
}

/// Logits (2, H, W) float on the CPU of `m` for one frame, padded to multiples of 32 like inferd.
torch::Tensor frame_logits(model::InferenceModel& m, const Frame& f, torch::Device device) {
  c10::InferenceMode guard;
  const int64_t h = f.pixels.size(1), w = f.pixels.size(2);
  torch::Tensor x = torch::zeros({1, 1, (h + 31) / 32 * 32, (w + 31) / 32 * 32});
  x.index_put_({0, 0, torch::indexing::Slice(0, h), torch::indexing::Slice(0, w)}, f.pixels[0]);
  torch::Tensor logits = m.forward(x.to(device)).to(torch::kCPU, torch::kFloat);
  return logits[0].slice(1, 0, h).slice(2, 0, w).contiguous();
}

/// Fraction of pixels on which two (2, H, W) logit tensors give the same mask (logit1 > logit0).
double mask_agreement(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor mask_a = torch::gt(a[1], a[0]), mask_b = torch::gt(b[1], b[0]);
  return torch::eq(mask_a, mask_b).to(torch::kDouble).mean().item<double>();
}

}  // namespace

TEST(InferdGpu, Bf16ModelMaskAgreesWithTheFp32MaskOnEveryEvent) {
  SKIP_WITHOUT_CUDA();
  auto reference = model::load_model(model::ModelSpec{tiny_config(), kGolden + "tiny.safetensors"});
  reference->to(torch::kCPU, model::Precision::kFp32, false);
  auto bf16 = model::load_model(model::ModelSpec{tiny_config(), kGolden + "tiny.safetensors"});
  const torch::Device cuda(torch::kCUDA, 0);
  bf16->to(cuda, model::Precision::kBf16, false);
  for (const auto& f : make_frames()) {
    const double agreement = mask_agreement(frame_logits(*bf16, f, cuda), frame_logits(*reference, f, torch::kCPU));
    EXPECT_GE(agreement, 0.98) << "event " << f.header.event_id << ": bf16 mask agrees on " << agreement * 100
                               << "% of the pixels";
  }
}

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
  // Confident = at least kConfidentNpix pixels: a component that size is not one threshold flip away
  // from vanishing, and bf16 moves its centroid by well under kRadius (a wrong offset, swapped axes or
  // another event's result moves it by far more).
  constexpr uint32_t kConfidentNpix = 4;
  constexpr double kRadius = 1.5;
  uint64_t fg_ref = 0, fg_gpu = 0, found_ref = 0, found_gpu = 0;
  size_t confident = 0, matched = 0;
  for (const auto& f : frames) {
    const auto want = reference_peaks(*reference, f, {2048, 3});
    const auto& r = got.at(f.header.event_id);
    fg_ref += foreground(want.peaks);
    fg_gpu += foreground(r.peaks);
    found_ref += want.n_found;
    found_gpu += r.header.n_found;
    const PeakMatch m = match_confident_peaks(want.peaks, r.peaks, kConfidentNpix, kRadius);
    confident += m.confident;
    matched += m.matched;
    // Per event: most confident peaks are where the reference has them (one or two may merge/split).
    EXPECT_GE(double(m.matched), 0.75 * double(m.confident) - 1.0)
        << "event " << f.header.event_id << ": " << m.matched << " of " << m.confident
        << " confident reference peaks found within " << kRadius << " px; n_found gpu " << r.header.n_found
        << " vs reference " << want.n_found << "; missing (y, x, npix):" << m.missing;
  }
  ASSERT_GT(confident, 0u) << "the golden frames must have confident peaks, or this test checks nothing";
  EXPECT_GE(double(matched), 0.9 * double(confident))
      << matched << " of " << confident << " confident reference peaks found within " << kRadius << " px";
  EXPECT_NEAR(double(found_gpu), double(found_ref), 0.1 * double(found_ref) + 2.0)
      << "peaks over all events: gpu " << found_gpu << " vs reference " << found_ref;
  ASSERT_GT(fg_ref, 0u);
  EXPECT_NEAR(double(fg_gpu), double(fg_ref), 0.05 * double(fg_ref))
      << "foreground pixels over all events: gpu " << fg_gpu << " vs reference " << fg_ref;
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
    // TF32 convolutions (cuDNN default) may flip a few near-tie pixels; the component count barely moves
    // and every confident peak but at most one per event is where the reference has it.
    EXPECT_NEAR(double(r.header.n_found), double(want.n_found), 1.0 + 0.02 * want.n_found)
        << "event " << f.header.event_id;
    EXPECT_NEAR(double(foreground(r.peaks)), double(foreground(want.peaks)), 0.01 * foreground(want.peaks) + 2)
        << "event " << f.header.event_id;
    const PeakMatch m = match_confident_peaks(want.peaks, r.peaks, 4, 1.0);
    EXPECT_GE(m.matched + 1, m.confident) << "event " << f.header.event_id << ": " << m.matched << " of " << m.confident
                                          << " confident peaks within 1 px; missing:" << m.missing;
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
  auto sut = std::make_unique<InferdService>(cfg);
  ASSERT_EQ(sut->run(), 0);
  // The pool stays exported while `sut` lives; the consumer (another process: IPC handles cannot be
  // opened by their exporter) reads every record.
  const std::string cmd = std::string(PEAKNET_BINARY_DIR "/daemons/inferd/inferd-ipc-consumer --q2 ") + run.q2() +
                          " --expect " + std::to_string(frames.size());
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

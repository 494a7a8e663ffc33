// Q1 -> InferdService (CPU backend, golden tiny PeakNet) -> Q2, checked against the model and peaks
// libraries run directly on the same frames (padding done here by hand, independently of inferd).
#include <gtest/gtest.h>

#include <map>

#include "common/config/suite_config.hpp"
#include "inferd/inferd_service.hpp"
#include "inferd_golden.hpp"
#include "inferd_q2_records.hpp"
#include "inferd_test_events.hpp"
#include "model/inference_model.hpp"
#include "model/safetensors.hpp"
#include "peak_match.hpp"
#include "peaks/peak_finder.hpp"
#include "shm/counter_block.hpp"

using namespace peaknet;
using namespace peaknet::inferd;
using namespace peaknet::inferd::testing;
using namespace std::chrono_literals;
using nlohmann::json;

TEST(InferdCpuPipeline, Q2MatchesModelPlusPeaksRunDirectly) {
  ShmRun run("golden");
  const auto frames = make_frames();
  json stats;
  const auto results = run_inferd(run, frames, /*batch_size=*/4, /*write_frames=*/false, &stats);
  ASSERT_EQ(results.size(), frames.size());

  model::ModelSpec spec{tiny_config(), kGolden + "tiny.safetensors"};
  auto reference = model::load_model(spec);
  reference->to(torch::kCPU, model::Precision::kFp32, false);
  const peaks::PeakParams params{2048, 3};
  // inferd runs the model at batch 4, the reference at batch 1: GEMM blocking differs with the batch and
  // the CPU, so a pixel whose logits nearly tie may flip (peak_match.hpp). Promised: the same peaks, up to
  // a bounded number of boundary-pixel differences; metadata exact.
  constexpr double kRadius = 1.0;
  constexpr uint32_t kMaxNpixDelta = 2;
  uint64_t total_peaks = 0, differing = 0;
  for (const auto& f : frames) {
    SCOPED_TRACE("event " + std::to_string(f.header.event_id));
    const Q2Record& got = results.at(f.header.event_id);
    const auto want = reference_peaks(*reference, f, params);
    EXPECT_NEAR(double(got.header.n_found), double(want.n_found), 1.0);
    const PeakListDiff d = diff_peak_lists(want.peaks, got.peaks, kRadius, kMaxNpixDelta);
    EXPECT_LE(d.differing(), 2u) << d.identical << " identical peaks; differing:" << d.detail;
    differing += d.differing();
    const bool near_threshold = std::abs(int64_t(want.n_found) - int64_t(params.min_num_peak)) <= 1;
    if (!near_threshold) {
      EXPECT_EQ((got.header.flags & shm::kResultFlagHit) != 0, want.hit);
    }
    EXPECT_EQ(got.header.height, f.header.height);
    EXPECT_EQ(got.header.width, f.header.width);
    EXPECT_EQ(got.header.timestamp, f.header.timestamp);
    EXPECT_EQ(got.header.photon_wavelength_a, f.header.photon_wavelength_a);
    EXPECT_EQ(got.header.pad_top, 0u);
    EXPECT_GT(got.header.t_q2_ns, 0u);
    EXPECT_EQ(got.header.frame_bytes, 0u);
    total_peaks += want.peaks.size();
  }
  EXPECT_LE(differing, std::max<uint64_t>(3, total_peaks / 50))
      << differing << " of " << total_peaks << " peaks differ by boundary pixels: more than near-tie flips explain";
  EXPECT_GT(total_peaks, 0u) << "the golden model finds no peaks: the comparison would be empty";
  // 5 frames of 160x224 then 2 of 150x200 at batch_size 4: batches 4 + 1 (shape change) + 2.
  EXPECT_EQ(stats["counters"]["batches"], 3);
  EXPECT_EQ(stats["counters"]["events_out"], 7);
  EXPECT_EQ(stats["counters"]["events_in"], 7);
}

TEST(InferdCpuPipeline, PartialBatchesAndWriteFramesCopyTheRawFrame) {
  ShmRun run("partial");
  auto frames = make_frames();
  frames.resize(5);  // one shape; batch_size 2 -> 2 + 2 + 1
  json stats;
  const auto results = run_inferd(run, frames, /*batch_size=*/2, /*write_frames=*/true, &stats);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(stats["counters"]["batches"], 3);
  // Frames of hits only (min_num_peak 3): a non-hit's frame is never copied.
  uint64_t hits = 0;
  for (const auto& f : frames) {
    const Q2Record& got = results.at(f.header.event_id);
    if (got.header.n_found < 3) {
      EXPECT_EQ(got.header.frame_bytes, 0u) << "non-hit " << f.header.event_id << " got a frame";
      continue;
    }
    ++hits;
    ASSERT_EQ(got.header.frame_bytes, f.header.payload_bytes);
    EXPECT_EQ(got.header.frame_dtype, shm::DType::kF32);
    EXPECT_EQ(got.header.frame_offset % 64, 0u);
    EXPECT_GE(got.header.frame_offset, shm::kPeaksOffset + got.peaks.size() * sizeof(shm::PeakRecord));
    EXPECT_EQ(std::memcmp(got.frame.data(), f.pixels.data_ptr<float>(), f.header.payload_bytes), 0);
  }
  EXPECT_GT(hits, 0u) << "the golden frames must hold hits for this test to check frame copies";
  EXPECT_EQ(stats["counters"]["hits"], hits);
  EXPECT_EQ(stats["counters"]["frame_bytes_copied"], hits * frames[0].header.payload_bytes);
  // Every Q1 slot went back (released after publish) and Q2 was finished by inferd.
  shm::Ring q1 = shm::Ring::attach(run.q1());
  EXPECT_EQ(q1.counters().released, 5u);
  EXPECT_TRUE(q1.finished());
}

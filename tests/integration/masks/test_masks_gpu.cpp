// writerd.write_masks on a GPU node, real daemons (label gpu; skipped without CUDA): inferd (device cuda)
// leaves each hit's mask in its device pool and writerd copies it out through CUDA IPC.
//  - the masks written equal the masks inferd computed (fp32 on the GPU vs the model run directly on the
//    CPU: a few near-tie boundary pixels may differ, never more);
//  - kill -9 of writerd while it holds Q2 claims (the pool entries' leases): the ring requeues them, the
//    entries are intact for the next writerd, inferd keeps running and reuses its entries for the events
//    that follow (3x more events than pool entries), all written with masks;
//  - kill -9 of inferd with records still in Q2: their device masks are gone, writerd writes those hits
//    without mask, counts masks_missing, and goes on with the next inferd's events, masks included.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>

#include "inferd/backend.hpp"
#include "mask_suite.hpp"

namespace peaknet::masks::testing {
namespace {

using namespace std::chrono_literals;
using ingestd::testing::eventually;

// The GPU (cuDNN's TF32 convolutions by default) and the CPU differ in the last bits of the logits; a
// pixel whose logits nearly tie may flip. Allowed, as in Fp32OnTheGpuMatchesTheCpuClosely
// (test_inferd_gpu.cpp): a few pixels plus 2 % of the reference's peak pixels.
size_t max_flips(const std::vector<uint8_t>& reference) {
  return 4 + size_t(0.02 * double(std::count(reference.begin(), reference.end(), 1)));
}

const json kGpu = {{"inferd", {{"device", "cuda"}, {"precision", "fp32"}, {"gpu", 0}}}};

json gpu_patch(const json& extra) {
  json p = kGpu;
  p.merge_patch(extra);
  return p;
}

#define SKIP_WITHOUT_GPU() \
  if (!inferd::cuda_available()) GTEST_SKIP() << "no CUDA backend in this build or no GPU visible"

TEST(MasksGpu, MasksOverCudaIpcEqualTheMasksComputedInInferd) {
  SKIP_WITHOUT_GPU();
  MaskRun run("mask-gpu", gpu_patch(json::object()));
  const auto frames = mask_frames(1000, 12);
  shm::Ring q1 = run.open_q1();
  auto& writerd = run.start("writerd");
  auto& inferd = run.start("inferd");
  publish(q1, frames);
  q1.finish_producing();
  ASSERT_EQ(inferd.wait(180s), 0) << run.logs();
  ASSERT_EQ(writerd.wait(60s), 0) << run.logs();
  auto model = reference_model();
  std::map<uint64_t, const Frame*> by_id;
  for (const auto& f : frames) by_id[f.header.event_id] = &f;
  uint64_t hits = 0;
  for (const Row& row : run.rows()) {
    SCOPED_TRACE("event " + std::to_string(row.event_id));
    ASSERT_EQ(row.status, 1) << "a hit without its device mask";
    ++hits;
    const Reference want = reference_of(*model, *by_id.at(row.event_id));
    EXPECT_LE(differing_pixels(row.mask, want.mask), max_flips(want.mask));
    EXPECT_GT(std::count(row.mask.begin(), row.mask.end(), 1), 0) << "a hit's mask has no peak pixel";
  }
  EXPECT_GT(hits, 0u);
  EXPECT_EQ(run.inferd("masks", "0"), hits);
  EXPECT_EQ(run.inferd("mask_bytes_copied", "0"), 0u) << "device masks never take the host path";
  EXPECT_EQ(run.writerd("masks_written"), hits);
  EXPECT_EQ(run.writerd("masks_missing"), 0u);
}

TEST(MasksGpu, KilledWriterdHoldingLeasesInferdReclaimsItsEntriesAndKeepsRunning) {
  SKIP_WITHOUT_GPU();
  MaskRun run("mask-gpu-wkill", gpu_patch({{"writerd", {{"events_per_file", 100}, {"max_file_age_ms", 600000}}}}));
  shm::Ring q1 = run.open_q1();
  auto& first = run.start("writerd");
  auto& inferd = run.start("inferd");
  const auto before = mask_frames(1000, 10);
  publish(q1, before);
  ASSERT_TRUE(eventually([&] { return run.writerd("held_slots") >= 5; }, 120s)) << run.logs();
  first.signal(SIGKILL);  // holds Q2 claims = leases on inferd's pool entries
  first.wait(5s);
  ASSERT_TRUE(inferd.running()) << run.logs();
  // The next writerd completes files quickly; 48 more events pass through 16 Q2 slots = pool entries,
  // so every entry the dead writerd held is used again.
  auto& second = run.start("writerd");
  const auto after = mask_frames(5000, 48);
  publish(q1, after);
  q1.finish_producing();
  ASSERT_EQ(inferd.wait(180s), 0) << run.logs();
  ASSERT_EQ(second.wait(60s), 0) << run.logs();
  uint64_t hits = 0, hits_after = 0;
  std::set<uint64_t> ids;
  for (const Row& row : run.rows()) {
    EXPECT_EQ(row.status, 1) << "event " << row.event_id << " written without its mask";
    EXPECT_TRUE(ids.insert(row.event_id).second) << "event " << row.event_id << " written twice";
    ++hits;
    hits_after += row.event_id >= 5000;
  }
  EXPECT_GT(hits_after, 16u) << "too few events after the kill to reuse every pool entry";
  EXPECT_EQ(run.writerd("masks_missing"), 0u);
  EXPECT_EQ(run.writerd("masks_written"), hits);
  EXPECT_GE(run.attach_q2().counters().requeued, 1u) << "the killed writerd's claims were not requeued";
}

TEST(MasksGpu, KilledInferdItsMasksInQ2AreCountedMissingAndWriterdGoesOn) {
  SKIP_WITHOUT_GPU();
  MaskRun run("mask-gpu-ikill", gpu_patch({{"writerd", {{"max_file_age_ms", 100}}}}));
  shm::Ring q1 = run.open_q1();
  auto& inferd = run.start("inferd");
  const auto before = mask_frames(1000, 10);
  publish(q1, before);
  // Every result is in Q2 (no writerd yet) with its mask in the pool of an inferd about to die.
  ASSERT_TRUE(eventually([&] { return run.attach_q2().counters().published >= before.size(); }, 120s)) << run.logs();
  const uint64_t hits_before = run.inferd("hits", "0");
  inferd.signal(SIGKILL);
  inferd.wait(5s);
  auto& writerd = run.start("writerd");
  ASSERT_TRUE(eventually([&] { return run.writerd("events_written") >= hits_before; }, 60s)) << run.logs();
  EXPECT_EQ(run.writerd("masks_missing"), hits_before);
  EXPECT_EQ(run.writerd("masks_written"), 0u);
  ASSERT_TRUE(writerd.running()) << run.logs();
  // A new inferd: its events are written with masks by the same writerd.
  auto& next = run.start("inferd");
  const auto after = mask_frames(5000, 10);
  publish(q1, after);
  q1.finish_producing();
  ASSERT_EQ(next.wait(180s), 0) << run.logs();
  ASSERT_EQ(writerd.wait(60s), 0) << run.logs();  // Q2 finished: the dead producer is recovered, the new one done
  for (const Row& row : run.rows()) {
    EXPECT_EQ(row.status, row.event_id >= 5000 ? 1 : 2) << "event " << row.event_id;
  }
  EXPECT_GT(run.writerd("masks_written"), 0u);
  EXPECT_EQ(run.writerd("masks_missing"), hits_before);
}

}  // namespace
}  // namespace peaknet::masks::testing

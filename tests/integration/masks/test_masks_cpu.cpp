// writerd.write_masks on a CPU node, real daemons: inferd (device cpu, golden tiny PeakNet) copies the
// mask of each hit into its Q2 record, writerd writes it to /entry_1/result_1/peakMask. Every hit's
// row must be the mask of the model run directly on the same frame (batch 1 here, batch 4 in inferd:
// near-tie logits may flip a few boundary pixels, never more), non-hits (kept by keep_all_events)
// have status 0 and an empty row, and the counters of both daemons book every mask.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>

#include "mask_suite.hpp"

namespace peaknet::masks::testing {
namespace {

using namespace std::chrono_literals;

// Two computations of the same model (batch 4 vs 1, peak_match.hpp): a pixel whose logits nearly tie
// may flip. Promised: the same mask up to a few such pixels per frame (of 160 x 224 = 35840).
constexpr size_t kMaxFlipsPerFrame = 12;

TEST(MasksCpu, EveryHitsMaskRowIsTheModelsMaskAndNonHitsHaveNone) {
  MaskRun run("mask-cpu", {{"writerd", {{"keep_all_events", true}}}});
  const auto frames = mask_frames(1000, 12);
  shm::Ring q1 = run.open_q1();
  auto& writerd = run.start("writerd");
  auto& inferd = run.start("inferd");
  publish(q1, frames);
  q1.finish_producing();  // inferd drains Q1, finishes Q2; writerd completes its files and exits
  ASSERT_EQ(inferd.wait(120s), 0) << run.logs();
  ASSERT_EQ(writerd.wait(60s), 0) << run.logs();

  auto model = reference_model();
  std::map<uint64_t, const Frame*> by_id;
  for (const auto& f : frames) by_id[f.header.event_id] = &f;
  const auto rows = run.rows();
  ASSERT_EQ(rows.size(), frames.size()) << run.logs();
  uint64_t hits = 0, nonhits = 0, flips = 0;
  for (const Row& row : rows) {
    SCOPED_TRACE("event " + std::to_string(row.event_id));
    ASSERT_TRUE(by_id.count(row.event_id));
    const Frame& f = *by_id[row.event_id];
    if (row.n_found < 3) {
      ++nonhits;
      EXPECT_EQ(row.status, 0) << "a non-hit got a mask";
      EXPECT_EQ(std::count(row.mask.begin(), row.mask.end(), 0), int64_t(row.mask.size()));
      continue;
    }
    ++hits;
    ASSERT_EQ(row.status, 1);
    const Reference want = reference_of(*model, f);
    ASSERT_EQ(row.mask.size(), want.mask.size());
    const size_t d = differing_pixels(row.mask, want.mask);
    EXPECT_LE(d, kMaxFlipsPerFrame) << "pixels differ from the model's mask";
    EXPECT_GT(std::count(row.mask.begin(), row.mask.end(), 1), 0) << "a hit's mask has no peak pixel";
    flips += d;
  }
  std::printf("%llu hits, %llu non-hits, %llu boundary pixels differ from the direct model run\n",
              (unsigned long long)hits, (unsigned long long)nonhits, (unsigned long long)flips);
  EXPECT_GT(hits, 0u) << "the golden frames must hold hits";
  EXPECT_GT(nonhits, 0u) << "the zero frames must be non-hits for the non-hit check to mean anything";
  EXPECT_LE(flips, hits * 4) << "more boundary flips than near ties explain";
  // Booked on both sides: inferd copied exactly the hits' masks, writerd wrote them all.
  EXPECT_EQ(run.inferd("masks"), hits);
  EXPECT_EQ(run.inferd("mask_bytes_copied"), hits * 160 * 224);
  EXPECT_EQ(run.inferd("masks_skipped"), 0u);
  EXPECT_EQ(run.writerd("masks_written"), hits);
  EXPECT_EQ(run.writerd("masks_missing"), 0u);
  EXPECT_EQ(run.writerd("nonhits_written"), nonhits);
}

TEST(MasksCpu, HostMasksSurviveAKilledWriterdInQ2AndAreWrittenByTheNextOne) {
  // The host copy travels in the Q2 slot: a writerd killed while holding slots has them requeued by the
  // ring, and the next writerd writes every hit with its mask.
  MaskRun run("mask-cpu-kill", {{"writerd", {{"events_per_file", 100}, {"max_file_age_ms", 600000}}}});
  const auto frames = mask_frames(2000, 10);
  shm::Ring q1 = run.open_q1();
  auto& first = run.start("writerd");
  auto& inferd = run.start("inferd");
  publish(q1, frames);
  ASSERT_TRUE(ingestd::testing::eventually([&] { return run.writerd("held_slots") >= 5; }, 120s)) << run.logs();
  first.signal(SIGKILL);
  first.wait(5s);
  q1.finish_producing();
  ASSERT_EQ(inferd.wait(120s), 0) << run.logs();
  auto& second = run.start("writerd");
  ASSERT_EQ(second.wait(60s), 0) << run.logs();
  const auto rows = run.rows();
  uint64_t hits = 0;
  for (const Row& row : rows) {
    hits += row.n_found >= 3;
    EXPECT_EQ(row.status, row.n_found >= 3 ? 1 : 0) << "event " << row.event_id;
  }
  EXPECT_GT(hits, 0u);
  EXPECT_EQ(run.writerd("masks_written"), hits);
  EXPECT_EQ(run.writerd("masks_missing"), 0u);
  EXPECT_GE(run.attach_q2().counters().requeued, 1u) << "the killed writerd's claims were not requeued";
}

}  // namespace
}  // namespace peaknet::masks::testing

// ProgressMonitor: the verdict behind the watchdog pets and the "stalled" state. Stages that wait
// legitimately (idle, blocked with a beat per slice) never stall whatever the timeout; a busy stage
// without progress, or any stage whose thread stops coming back, does; a ring unlinked under the
// process is a stall at once. Timeouts are either far above or far below the sleeps used.
#include <gtest/gtest.h>

#include <thread>

#include "common/progress_monitor.hpp"

using namespace peaknet::common;
using namespace std::chrono_literals;

TEST(ProgressMonitor, WaitingStagesThatKeepComingBackNeverStall) {
  ProgressMonitor sut(200ms);
  Stage& input = sut.add_stage("decode thread 0");
  Stage& output = sut.add_stage("compute thread");
  for (int i = 0; i < 30; ++i) {  // ~450 ms of waiting: more than twice the timeout
    input.idle("waiting for messages");
    output.blocked("q2 acquire");  // a wait slice of a full ring: legitimate backpressure
    const StallReport r = sut.check();
    ASSERT_FALSE(r.stalled) << r.message;
    std::this_thread::sleep_for(15ms);
  }
}

TEST(ProgressMonitor, ABusyStageWithoutProgressStallsAndRecoversWithProgress) {
  std::atomic<uint64_t> stalls{0}, stalled{0};
  ProgressMonitor sut(50ms);
  sut.count_into(&stalls, &stalled);
  Stage& stage = sut.add_stage("decode thread 3");
  stage.busy("q1 acquire");
  std::this_thread::sleep_for(100ms);
  StallReport r = sut.check();
  ASSERT_TRUE(r.stalled);
  EXPECT_EQ(r.stage, "decode thread 3");
  EXPECT_EQ(r.activity, "q1 acquire");
  EXPECT_NE(r.message.find("decode thread 3 stuck for"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("in q1 acquire"), std::string::npos) << r.message;
  EXPECT_EQ(stalls.load(), 1u);
  EXPECT_EQ(stalled.load(), 1u);
  EXPECT_TRUE(sut.check().stalled);
  EXPECT_EQ(stalls.load(), 1u) << "one stall episode is counted once";
  EXPECT_TRUE(sut.last().stalled);

  stage.progress();
  r = sut.check();
  EXPECT_FALSE(r.stalled) << r.message;
  EXPECT_EQ(stalled.load(), 0u);
  EXPECT_EQ(stalls.load(), 1u);
}

TEST(ProgressMonitor, AWaitingThreadThatStopsComingBackIsStuck) {
  ProgressMonitor sut(50ms);
  Stage& stage = sut.add_stage("receive endpoint 0");
  stage.blocked("decode queue push");
  std::this_thread::sleep_for(100ms);  // no beat: the thread did not return from its wait
  const StallReport r = sut.check();
  EXPECT_TRUE(r.stalled);
  EXPECT_NE(r.message.find("receive endpoint 0 stuck for"), std::string::npos) << r.message;
}

TEST(ProgressMonitor, FinishedStagesAndLongTimeoutsDoNotStall) {
  ProgressMonitor sut(1h);
  Stage& busy = sut.add_stage("write thread");
  busy.busy("write");
  Stage& done = sut.add_stage("synthetic source");
  done.done();
  std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(sut.check().stalled);
  ProgressMonitor short_timeout(1ms);
  short_timeout.add_stage("replay source").done();
  std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(short_timeout.check().stalled);
}

TEST(ProgressMonitor, ARingUnlinkedUnderTheProcessIsAStallAtOnceNamingTheRing) {
  ProgressMonitor sut(1h);
  Stage& stage = sut.add_stage("decode thread 0");
  stage.blocked("q1 acquire");
  std::string problem;
  sut.watch_ring("q1", [&] { return problem; });
  EXPECT_FALSE(sut.check().stalled);
  problem = "shm segment 'run-q1': replaced under this process";
  ProgressMonitor fresh(1h);  // rings are re-checked about once a second: a new monitor checks now
  fresh.add_stage("decode thread 0").blocked("q1 acquire");
  fresh.watch_ring("q1", [&] { return problem; });
  const StallReport r = fresh.check();
  ASSERT_TRUE(r.stalled);
  EXPECT_EQ(r.stage, "q1");
  EXPECT_NE(r.message.find("run-q1"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("decode thread 0 in q1 acquire"), std::string::npos) << r.message;
}

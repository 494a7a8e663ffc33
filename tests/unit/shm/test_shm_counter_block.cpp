// CounterBlock: named counters/gauges/histograms in shm, read by another handle (peakctl's view).
#include <thread>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using testing::ShmGuard;
using testing::unique_name;

TEST(ShmCounterBlock, CountersAreSharedAndStable) {
  ShmGuard name(unique_name());
  CounterBlock daemon = CounterBlock::open_or_create(name, 16);
  std::atomic<uint64_t>& received = daemon.counter("events_received");
  received.fetch_add(5);
  daemon.counter("events_received").fetch_add(2);
  EXPECT_EQ(&daemon.counter("events_received"), &received);
  daemon.gauge("q1_occupancy").store(9);

  CounterBlock reader = CounterBlock::attach(name);
  const auto snap = reader.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0], (std::pair<std::string, uint64_t>{"events_received", 7}));
  EXPECT_EQ(snap[1], (std::pair<std::string, uint64_t>{"q1_occupancy", 9}));
  EXPECT_EQ(reader.creator_pid(), ::getpid());
}

TEST(ShmCounterBlock, HistogramPercentilesAreLog2Buckets) {
  ShmGuard name(unique_name());
  CounterBlock sut = CounterBlock::open_or_create(name);
  Histogram& h = sut.histogram("latency_ns");
  for (uint64_t v = 1; v <= 1000; ++v) h.record(v);
  EXPECT_EQ(h.count.load(), 1000u);
  EXPECT_EQ(h.max.load(), 1000u);
  EXPECT_EQ(h.mean(), 500u);
  EXPECT_EQ(h.percentile(50), 511u);  // 500 lies in [256, 511]
  EXPECT_EQ(h.percentile(100), 1000u);
  EXPECT_EQ(h.percentile(0.1), 1u);
  const auto entries = CounterBlock::attach(name).snapshot_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, MetricKind::kHistogram);
  EXPECT_EQ(entries[0].value, 1000u);
  EXPECT_EQ(entries[0].p50, 511u);
}

TEST(ShmCounterBlock, ReopenKeepsValuesAndOtherKindIsRefused) {
  ShmGuard name(unique_name());
  {
    CounterBlock a = CounterBlock::open_or_create(name, 8);
    a.counter("x").store(3);
  }
  CounterBlock b = CounterBlock::open_or_create(name, 8);
  EXPECT_EQ(b.counter("x").load(), 3u);
  EXPECT_THROW(b.histogram("x"), ShmError);
}

TEST(ShmCounterBlock, NamesAreCheckedAndCapacityIsEnforced) {
  ShmGuard name(unique_name());
  CounterBlock sut = CounterBlock::open_or_create(name, 4);
  EXPECT_THROW(sut.counter(""), ShmError);
  EXPECT_THROW(sut.counter(std::string(48, 'a')), ShmError);
  EXPECT_NO_THROW(sut.counter(std::string(47, 'a')));
  for (int i = 0; i < 3; ++i) sut.counter("c" + std::to_string(i));
  try {
    sut.counter("one_too_many");
    FAIL();
  } catch (const ShmError& e) {
    EXPECT_NE(std::string(e.what()).find("full (4 metrics)"), std::string::npos) << e.what();
  }
}

TEST(ShmCounterBlock, ConcurrentRegistrationOfOneNameGivesOneEntry) {
  ShmGuard name(unique_name());
  CounterBlock sut = CounterBlock::open_or_create(name, 64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      CounterBlock mine = CounterBlock::attach(name);
      for (int i = 0; i < 1000; ++i) mine.counter("shared").fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (auto& t : threads) t.join();
  const auto snap = sut.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].second, 4000u);
}

TEST(ShmCounterBlock, BadSegmentsAreClearErrors) {
  ShmGuard name(unique_name());
  EXPECT_THROW(CounterBlock::attach(name), ShmError);
  RingOptions o;
  o.name = name;
  o.slot_count = 1;
  { Ring ring = Ring::create(o); }
  try {
    CounterBlock::attach(name);
    FAIL();
  } catch (const ShmError& e) {
    EXPECT_NE(std::string(e.what()).find("bad magic"), std::string::npos) << e.what();
  }
  auto infos = Ring::list(name.name());
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].kind, "ring");
}

TEST(ShmCounterBlock, ListShowsCounterBlocks) {
  ShmGuard name(unique_name());
  CounterBlock sut = CounterBlock::open_or_create(name);
  auto infos = Ring::list(name.name());
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].kind, "counters");
  EXPECT_TRUE(infos[0].problem.empty()) << infos[0].problem;
  EXPECT_EQ(infos[0].creator_pid, ::getpid());
  EXPECT_FALSE(infos[0].stale);
}

}  // namespace
}  // namespace peaknet::shm

// Real processes (fork + exec of shm_ring_worker): N producers x M consumers move >= 1M small events
// with payload checksums: no loss, no duplicate, FIFO per producer within each consumer.
#include <map>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using namespace std::chrono_literals;
using testing::ShmGuard;
using testing::TempFile;
using testing::unique_name;

TEST(ShmMultiProcess, ProducersAndConsumersMoveAMillionEventsExactlyOnceInOrder) {
  constexpr int kProducers = 3, kConsumers = 2;
  const int64_t kPerProducer = testing::scaled(340'000);  // 1.02 M events
  ShmGuard name(unique_name());
  RingOptions o;
  o.name = name;
  o.slot_count = 256;
  o.slot_bytes = 4096;
  Ring guard = Ring::create(o);
  guard.begin_producing();  // consumers must not see finished() before every producer started

  testing::WorkerReaper reaper;
  std::vector<std::unique_ptr<TempFile>> outs;
  std::vector<pid_t> consumers, producers;
  for (int c = 0; c < kConsumers; ++c) {
    outs.push_back(std::make_unique<TempFile>("consumer" + std::to_string(c)));
    consumers.push_back(reaper.add(testing::spawn_worker({"consume", name, outs.back()->path(), "32"})));
  }
  for (int p = 0; p < kProducers; ++p) {
    producers.push_back(
        reaper.add(testing::spawn_worker({"produce", name, std::to_string(p), std::to_string(kPerProducer), "48"})));
  }
  for (pid_t p : producers) ASSERT_EQ(testing::wait_worker(p, 120s), 0);
  guard.finish_producing();
  for (pid_t c : consumers) ASSERT_EQ(testing::wait_worker(c, 60s), 0) << "consumer failed (3 = corrupt event)";

  std::vector<std::vector<uint8_t>> seen(kProducers, std::vector<uint8_t>(kPerProducer, 0));
  for (const auto& out : outs) {
    std::map<uint64_t, int64_t> last;
    for (const testing::Delivery& d : testing::read_deliveries(out->path())) {
      ASSERT_LT(d.producer, uint64_t{kProducers});
      ASSERT_LT(d.sequence, uint64_t(kPerProducer));
      auto it = last.find(d.producer);
      if (it != last.end()) {
        ASSERT_GT(int64_t(d.sequence), it->second) << "FIFO per producer violated (producer " << d.producer
                                                   << ", requeued " << guard.counters().requeued << ")";
      }
      last[d.producer] = int64_t(d.sequence);
      ASSERT_EQ(seen[d.producer][d.sequence]++, 0) << "duplicate " << d.producer << "/" << d.sequence;
    }
  }
  for (int p = 0; p < kProducers; ++p) {
    for (int64_t s = 0; s < kPerProducer; ++s) ASSERT_EQ(seen[p][s], 1) << "lost " << p << "/" << s;
  }
  const RingCounters c = guard.counters();
  EXPECT_EQ(c.published, uint64_t{kProducers} * kPerProducer);
  EXPECT_EQ(c.released, c.published);
  EXPECT_EQ(c.consumed, c.published);
  EXPECT_EQ(c.requeued, 0u);
  EXPECT_EQ(c.free, o.slot_count);
  EXPECT_TRUE(guard.finished());
}

}  // namespace
}  // namespace peaknet::shm

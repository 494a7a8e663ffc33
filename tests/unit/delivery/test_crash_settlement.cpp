// A restarted ingestd books what its dead predecessor held (counted received, never published nor
// dropped) as lost, once, so no in-flight count stays stuck after a kill -9.
#include <unistd.h>

#include <gtest/gtest.h>

#include "ingestd/ingest_counters.hpp"

namespace peaknet::ingestd {
namespace {

TEST(CrashSettlement, UnresolvedEventsAndMessagesOfADeadInstanceBecomeLostOnce) {
  const std::string name = "pkcrash" + std::to_string(::getpid()) + "-stats-ingestd";
  {
    IngestCounters dead(name, 1);  // what a killed instance left in the block
    dead.messages_received += 5;
    dead.messages_decoded += 3;  // two messages were queued or being decoded
    dead.events_received += 12;
    dead.events_enqueued += 9;
    dead.dropped(EventDropReason::kQ1Full) += 1;  // two events begun, never settled
  }
  IngestCounters next(name, 1);
  const auto [events, messages] = next.settle_dead_instance();
  EXPECT_EQ(events, 2u);
  EXPECT_EQ(messages, 2u);
  EXPECT_EQ(next.dropped(EventDropReason::kLostInCrash).load(), 2u);
  EXPECT_EQ(next.messages_lost_in_crash.load(), 2u);
  EXPECT_EQ(next.events_received.load(), next.events_enqueued.load() + next.events_dropped_total());
  const auto again = next.settle_dead_instance();  // nothing is counted twice
  EXPECT_EQ(again.first, 0u);
  EXPECT_EQ(again.second, 0u);
  EXPECT_TRUE(next.to_json().contains("dropped_lost_in_crash"));
  shm::CounterBlock::unlink(name);
}

}  // namespace
}  // namespace peaknet::ingestd

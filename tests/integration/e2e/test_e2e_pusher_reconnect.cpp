// A streamer rank disconnects and a new one connects to the same ingestd endpoint (lclstreamer
// restarts, MPI ranks coming and going): every event of both pushers reaches a CXI file exactly
// once, and the suite ledger balances with nothing in flight.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "e2e_cxi.hpp"
#include "e2e_suite.hpp"

namespace {

using namespace peaknet::e2e::testing;

TEST(EndToEnd, PusherDisconnectsAndANewOneConnectsNothingIsLost) {
  constexpr int kMessages = 4, kBatch = 3;
  Suite suite("reconnect");
  ASSERT_NO_FATAL_FAILURE(suite.start());

  // First pusher: npz, then it exits (its socket closes after delivery).
  ASSERT_EQ(suite.push({"--format", "npz-deflate", "--shape", std::to_string(kBatch), "1", "64", "64", "-c",
                        std::to_string(kMessages)},
                       "pusher"),
            0)
      << suite.logs();
  ASSERT_TRUE(eventually([&] { return suite.ingestd_counter("messages_received") >= kMessages; }, 20s));
  EXPECT_TRUE(eventually([&] { return suite.ingestd_counter("peers_connected") == 0; }, 10s))
      << "ingestd never saw the first pusher disconnect";

  // A new process, another rank (distinct pattern keys), another format.
  ASSERT_EQ(suite.push({"--format", "hdf5-bslz4", "--shape", std::to_string(kBatch), "1", "64", "64", "-c",
                        std::to_string(kMessages), "--rank-base", "1"},
                       "pusher2"),
            0)
      << suite.logs();
  suite.drain_after(2 * kMessages);

  std::set<uint64_t> ids;
  std::set<double> timestamps;  // the pusher's pattern key: distinct per (rank, message, event)
  size_t rows = 0;
  for (const auto& file : suite.cxi_files()) {
    for (const auto& row : read_cxi(file, Suite::kMaxNumPeak)) {
      ++rows;
      ids.insert(row.event_id);
      timestamps.insert(row.timestamp);
      EXPECT_FALSE(std::isnan(row.timestamp));
    }
  }
  constexpr size_t kEvents = 2 * kMessages * kBatch;
  EXPECT_EQ(rows, kEvents) << suite.logs();
  EXPECT_EQ(ids.size(), kEvents) << "duplicate event ids";
  EXPECT_EQ(timestamps.size(), kEvents) << "the two pushers' events are not all distinct";

  const SuiteCounters c = suite.counters();
  EXPECT_EQ(c.get(c.ingestd, "messages_received"), uint64_t(2 * kMessages));
  EXPECT_EQ(c.get(c.ingestd, "events_received"), kEvents);
  EXPECT_EQ(c.get(c.writerd, "events_written"), kEvents);
  EXPECT_EQ(c.dropped(), 0u);
  expect_ledger_balanced(c);
}

}  // namespace

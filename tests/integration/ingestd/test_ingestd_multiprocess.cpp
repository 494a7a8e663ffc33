// Several PUSH senders (peaknet-pusher processes imitating lclstreamer ranks) -> ingestd -> Q1 ->
// a consumer that checks every event: count, unique ids, payload equal to the pusher's pattern.
#include <future>
#include <set>

#include <gtest/gtest.h>

#include "ingestd_harness.hpp"
#include "pusher/batch_pattern.hpp"

namespace peaknet::ingestd::testing {
namespace {

void expect_every_event_matches_the_pattern(const std::vector<Q1Event>& events, const std::string& descr) {
  std::set<uint64_t> ids, keys;
  for (const auto& e : events) {
    EXPECT_TRUE(ids.insert(e.header.event_id).second) << "duplicate event id " << e.header.event_id;
    const auto key = static_cast<uint64_t>(e.header.timestamp);
    EXPECT_TRUE(keys.insert(key).second) << "event delivered twice: key " << key;
    const uint64_t count = uint64_t(e.header.channels) * e.header.height * e.header.width;
    EXPECT_TRUE(pusher::check_pattern(key, descr, count, reinterpret_cast<const uint8_t*>(e.payload.data())))
        << "payload of event " << e.header.event_id << " (key " << key << ") differs";
  }
}

TEST(IngestdMultiProcess, ThreePushersTwoEndpointsEveryEventArrivesIntact) {
  InstanceFixture run("multi");
  const auto config = write_config(run.dir, run.name, {{"slots", 16}, {"slot_bytes", 64 << 10}},
                                   {{"endpoints", {{{"url", run.endpoint(0)}}, {{"url", run.endpoint(1)}}}},
                                    {"decode_threads", 2},
                                    {"idle_timeout_s", 1.5}});
  auto reader = std::async(std::launch::async, [&] { return read_q1_until_finished(run.shm.q1(), 60s); });
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file(1)) || !ingestd.running(); }, 20s))
      << read_text(run.log("ingestd"));
  const std::vector<std::pair<std::string, std::string>> senders = {
      {"npz-deflate", "float32"}, {"hdf5-bslz4", "uint16"}, {"npz-stored", "float32"}};
  std::vector<std::unique_ptr<ChildProcess>> pushers;
  for (size_t i = 0; i < senders.size(); ++i) {
    // Each pusher process is a different set of ranks: offset the pattern keys by --rank-base.
    pushers.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{pusher_binary(),
                                                                              "-e",
                                                                              run.endpoint(0),
                                                                              "-e",
                                                                              run.endpoint(1),
                                                                              "--ranks",
                                                                              "2",
                                                                              "--rank-base",
                                                                              std::to_string(2 * i),
                                                                              "--count",
                                                                              "10",
                                                                              "--format",
                                                                              senders[i].first,
                                                                              "--dtype",
                                                                              senders[i].second,
                                                                              "--shape",
                                                                              "3",
                                                                              "1",
                                                                              "32",
                                                                              "48",
                                                                              "--linger",
                                                                              "-1"},
                                                     run.log("pusher" + std::to_string(i))));
  }
  for (size_t i = 0; i < pushers.size(); ++i) {
    EXPECT_EQ(pushers[i]->wait(60s), std::optional<int>(0)) << read_text(run.log("pusher" + std::to_string(i)));
  }
  ASSERT_EQ(ingestd.wait(60s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  const auto events = reader.get();
  EXPECT_EQ(events.size(), 3u * 2 * 10 * 3);
  std::vector<Q1Event> f32, u16;
  for (const auto& e : events) (e.header.dtype == shm::DType::kU16 ? u16 : f32).push_back(e);
  EXPECT_EQ(u16.size(), 2u * 10 * 3);
  expect_every_event_matches_the_pattern(f32, "<f4");
  expect_every_event_matches_the_pattern(u16, "<u2");
  const auto counters = read_counters(run.shm.counters());
  EXPECT_EQ(counters.at("messages_received"), 60u);
  EXPECT_EQ(counters.at("events_received"), events.size());
  EXPECT_EQ(counters.at("events_enqueued"), events.size());
  EXPECT_EQ(counters.at("endpoint.0.messages") + counters.at("endpoint.1.messages"), 60u);
  EXPECT_GT(counters.at("endpoint.0.messages"), 0u);
  EXPECT_GT(counters.at("endpoint.1.messages"), 0u);
}

TEST(IngestdMultiProcess, SimplonStopEndsTheRunAndQ1Finishes) {
  const fs::path golden = fs::path(PEAKNET_GOLDEN_DIR) / "wire";
  if (!fs::exists(golden / "simplon-start.cbormsg")) GTEST_SKIP() << "no golden Simplon vectors";
  InstanceFixture run("simplon");
  const auto config = write_config(run.dir, run.name, {{"slots", 8}, {"slot_bytes", 64 << 10}},
                                   {{"endpoints", {{{"url", run.endpoint(0)}}}}, {"end_grace_s", 0.3}});
  auto reader = std::async(std::launch::async, [&] { return read_q1_until_finished(run.shm.q1(), 30s); });
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file(0)) || !ingestd.running(); }, 20s));
  ChildProcess pusher(
      {pusher_binary(), "-e", run.endpoint(0), "--linger", "-1", "--count", "4", "-f",
       (golden / "simplon-start.cbormsg").string(), "-f", (golden / "simplon-image-0.cbormsg").string(), "-f",
       (golden / "simplon-image-1.cbormsg").string(), "-f", (golden / "simplon-image-2.cbormsg").string(), "--end-file",
       (golden / "simplon-stop.cbormsg").string()},
      run.log("pusher"));
  EXPECT_EQ(pusher.wait(30s), std::optional<int>(0)) << read_text(run.log("pusher"));
  ASSERT_EQ(ingestd.wait(30s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  EXPECT_NE(read_text(run.log("ingestd")).find("simplon_end"), std::string::npos) << read_text(run.log("ingestd"));
  EXPECT_EQ(reader.get().size(), 3u);
  EXPECT_EQ(read_counters(run.shm.counters()).at("end_of_stream_seen"), 1u);
}

}  // namespace
}  // namespace peaknet::ingestd::testing

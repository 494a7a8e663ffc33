// Q1 full: with `block` and no consumer ingestd stops receiving, so the PUSH high-water mark fills
// and the sender blocks (nothing is lost); with drop_newest / drop_oldest every drop is counted.
// Time blocked on a full Q1 is not idle time: the idle timeout only ends a run with nothing pending.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "ingestd_harness.hpp"
#include "pusher/batch_pattern.hpp"

namespace peaknet::ingestd::testing {
namespace {

constexpr int kMessages = 40;

/// 1 MiB messages (one 512x512 float32 event each): far more than socket buffers hold.
std::vector<std::string> pusher_args(const InstanceFixture& run) {
  return {pusher_binary(), "-e",         run.endpoint(), "--count",  std::to_string(kMessages),
          "--format",      "npz-stored", "--shape",      "1",        "1",
          "512",           "512",        "--reuse",      "--linger", "-1"};
}

nlohmann::json small_q1(const std::string& policy) {
  return {{"slots", 4}, {"slot_bytes", 2 << 20}, {"policy", policy}, {"block_timeout_ms", 50}};
}

nlohmann::json ingestd_section(const InstanceFixture& run, double idle_timeout_s) {
  return {{"endpoints", {{{"url", run.endpoint()}, {"rcvhwm", 2}}}},
          {"decode_queue_messages", 2},
          {"decode_threads", 1},
          {"idle_timeout_s", idle_timeout_s},
          {"stop_flush_timeout_s", 0.3}};
}

TEST(IngestdBackpressure, BlockPolicyWithoutConsumerStallsTheSender) {
  InstanceFixture run("bp-block");
  const auto config = write_config(run.dir, run.name, small_q1("block"), ingestd_section(run, 0));
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file()) || !ingestd.running(); }, 20s));
  ChildProcess pusher(pusher_args(run), run.log("pusher"));
  // Q1 (4 slots) fills; after that nothing moves: the pusher is still blocked in send.
  ASSERT_TRUE(eventually([&] { return read_counters(run.shm.counters())["events_enqueued"] == 4; }, 20s));
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(pusher.running()) << "sender finished although nobody consumed Q1: " << read_text(run.log("pusher"));
  const auto counters = read_counters(run.shm.counters());
  EXPECT_EQ(counters.at("events_enqueued"), 4u);
  EXPECT_LT(counters.at("messages_received"), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(counters.at("dropped_q1_full"), 0u);
  EXPECT_GT(counters.at("q1_blocked_ns"), 0u);

  // Consume Q1 now: the stall resolves and every message arrives.
  std::atomic<bool> stop_reading{false};
  std::atomic<size_t> consumed{0};
  std::thread consumer([&] {
    auto ring = shm::Ring::attach(run.shm.q1());
    std::vector<shm::ReadSlot> batch;
    while (!stop_reading.load()) {
      batch.clear();
      if (ring.claim(batch, 8, 100ms) == 0 && ring.finished()) break;
      for (auto& s : batch) ring.release(std::move(s));
      consumed += batch.size();
    }
  });
  EXPECT_EQ(pusher.wait(30s), std::optional<int>(0)) << read_text(run.log("pusher"));
  EXPECT_TRUE(eventually([&] { return consumed.load() == static_cast<size_t>(kMessages); }, 20s)) << consumed.load();
  // SIGTERM: drain (stop receiving, flush, finish) and exit 0.
  ingestd.signal(SIGTERM);
  EXPECT_EQ(ingestd.wait(20s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  stop_reading = true;
  consumer.join();
  EXPECT_EQ(read_counters(run.shm.counters()).at("events_enqueued"), static_cast<uint64_t>(kMessages));
}

TEST(IngestdBackpressure, SecondSignalStopsABlockedDrainAndCountsTheDrops) {
  InstanceFixture run("bp-stop");
  const auto config = write_config(run.dir, run.name, small_q1("block"), ingestd_section(run, 0));
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file()) || !ingestd.running(); }, 20s));
  ChildProcess pusher(pusher_args(run), run.log("pusher"));
  ASSERT_TRUE(eventually([&] { return read_counters(run.shm.counters())["events_enqueued"] == 4; }, 20s));
  ingestd.signal(SIGTERM);  // drain: waits for Q1 room that never comes
  std::this_thread::sleep_for(300ms);
  ingestd.signal(SIGTERM);  // stop: flush for stop_flush_timeout_s, then drop
  ASSERT_EQ(ingestd.wait(20s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  const auto c = read_counters(run.shm.counters());
  EXPECT_EQ(c.at("events_received"), c.at("events_enqueued") + c.at("dropped_shutdown"));
  EXPECT_GE(c.at("dropped_shutdown"), 1u);
}

TEST(IngestdBackpressure, IdleTimeoutDoesNotFireWhileBlockedOnAFullQ1) {
  InstanceFixture run("bp-idle");
  constexpr double kIdleTimeoutS = 0.5;
  const auto config = write_config(run.dir, run.name, small_q1("block"), ingestd_section(run, kIdleTimeoutS));
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file()) || !ingestd.running(); }, 20s));
  auto args = pusher_args(run);
  args.erase(std::find(args.begin(), args.end(), "--reuse"));  // a distinct pattern key per message
  ChildProcess pusher(args, run.log("pusher"));
  ASSERT_TRUE(eventually([&] { return read_counters(run.shm.counters())["events_enqueued"] == 4; }, 20s));

  // A consumer holds all 4 slots for 4 idle timeouts (Q1 stays full, ingestd blocked), then reads on.
  auto ring = shm::Ring::attach(run.shm.q1());
  std::vector<shm::ReadSlot> held;
  ASSERT_TRUE(eventually(
      [&] {
        ring.claim(held, 4 - held.size(), 100ms);
        return held.size() == 4;
      },
      5s));
  std::this_thread::sleep_for(std::chrono::duration<double>(4 * kIdleTimeoutS));
  ASSERT_TRUE(ingestd.running()) << "the run ended while blocked on Q1: " << read_text(run.log("ingestd"));
  EXPECT_EQ(read_counters(run.shm.counters()).at("events_enqueued"), 4u);

  std::set<uint64_t> keys;
  auto take = [&](std::vector<shm::ReadSlot>& slots) {
    for (auto& slot : slots) {
      shm::EventHeader h;
      std::memcpy(&h, slot.data(), sizeof h);
      const auto key = static_cast<uint64_t>(h.timestamp);
      EXPECT_TRUE(keys.insert(key).second) << "event delivered twice: key " << key;
      EXPECT_TRUE(pusher::check_pattern(key, "<f4", uint64_t(h.channels) * h.height * h.width,
                                        reinterpret_cast<const uint8_t*>(slot.data() + shm::kPayloadOffset)))
          << "payload of key " << key << " differs";
      ring.release(std::move(slot));
    }
    slots.clear();
  };
  take(held);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ring.claim(held, 8, 100ms) == 0 && ring.finished()) break;
    take(held);
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(pusher.wait(10s), std::optional<int>(0)) << read_text(run.log("pusher"));
  // Once everything is published and nothing arrives, the idle timeout ends the run as before.
  ASSERT_EQ(ingestd.wait(10s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  EXPECT_NE(read_text(run.log("ingestd")).find("run ended (idle_timeout)"), std::string::npos)
      << read_text(run.log("ingestd"));
  const auto c = read_counters(run.shm.counters());
  EXPECT_EQ(c.at("messages_received"), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(c.at("events_enqueued"), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(c.at("events_received"), c.at("events_enqueued"));
  EXPECT_EQ(c.at("messages_discarded"), 0u);
}

TEST(IngestdBackpressure, DropNewestCountsEveryEventThatFoundQ1Full) {
  InstanceFixture run("bp-newest");
  const auto config = write_config(run.dir, run.name, small_q1("drop_newest"), ingestd_section(run, 1.0));
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file()) || !ingestd.running(); }, 20s));
  ChildProcess pusher(pusher_args(run), run.log("pusher"));
  EXPECT_EQ(pusher.wait(30s), std::optional<int>(0)) << read_text(run.log("pusher"));
  ASSERT_EQ(ingestd.wait(30s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  const auto c = read_counters(run.shm.counters());
  EXPECT_EQ(c.at("messages_received"), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(c.at("events_enqueued"), 4u);
  EXPECT_EQ(c.at("dropped_q1_full"), static_cast<uint64_t>(kMessages - 4));
  EXPECT_EQ(c.at("events_received"), c.at("events_enqueued") + c.at("dropped_q1_full"));
}

TEST(IngestdBackpressure, DropOldestKeepsTheNewestEventsAndTheRingCountsEvictions) {
  InstanceFixture run("bp-oldest");
  const auto config = write_config(run.dir, run.name, small_q1("drop_oldest"), ingestd_section(run, 1.0));
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file()) || !ingestd.running(); }, 20s));
  ChildProcess pusher(pusher_args(run), run.log("pusher"));
  EXPECT_EQ(pusher.wait(30s), std::optional<int>(0)) << read_text(run.log("pusher"));
  ASSERT_EQ(ingestd.wait(30s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  const auto c = read_counters(run.shm.counters());
  EXPECT_EQ(c.at("events_enqueued"), static_cast<uint64_t>(kMessages));
  auto ring = shm::Ring::attach(run.shm.q1());
  const auto rc = ring.counters();
  EXPECT_EQ(rc.dropped[static_cast<size_t>(shm::DropReason::kEvictedOldest)], static_cast<uint64_t>(kMessages - 4));
  std::vector<shm::ReadSlot> left;
  ASSERT_EQ(ring.claim(left, 8, 200ms), 4u);
  shm::EventHeader newest;
  std::memcpy(&newest, left.back().data(), sizeof newest);
  EXPECT_EQ(newest.event_id, static_cast<uint64_t>(kMessages - 1));  // source 0, last sequence
  for (auto& s : left) ring.release(std::move(s));
}

}  // namespace
}  // namespace peaknet::ingestd::testing

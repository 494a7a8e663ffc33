// The sources besides sockets, as a process: synthetic frames (deterministic by seed, the same bytes a
// test regenerates) and record -> replay (a recorded run replays into the same events).
#include <future>
#include <set>

#include <gtest/gtest.h>

#include "ingestd/synthetic_frames.hpp"
#include "ingestd_harness.hpp"
#include "pusher/batch_pattern.hpp"

namespace peaknet::ingestd::testing {
namespace {

TEST(IngestdSources, SyntheticRunPublishesExactlyTheSeededFramesAndFinishes) {
  InstanceFixture run("synthetic");
  const nlohmann::json synthetic = {
      {"shape", {2, 32, 48}}, {"dtype", "uint16"}, {"events", 25}, {"seed", 3}, {"peaks_per_frame", 4}};
  const auto config = write_config(run.dir, run.name, {{"slots", 8}, {"slot_bytes", 64 << 10}},
                                   {{"source", "synthetic"}, {"synthetic", synthetic}});
  auto reader = std::async(std::launch::async, [&] { return read_q1_until_finished(run.shm.q1(), 30s); });
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, run.log("ingestd"));
  ASSERT_EQ(ingestd.wait(30s), std::optional<int>(0)) << read_text(run.log("ingestd"));
  const auto events = reader.get();
  ASSERT_EQ(events.size(), 25u);
  config::IngestdSyntheticConfig sc;
  sc.shape = {2, 32, 48};
  sc.dtype = "uint16";
  sc.seed = 3;
  sc.peaks_per_frame = 4;
  const SyntheticFrames expected(sc);
  for (const auto& e : events) {
    const uint64_t index = e.header.event_id & ((uint64_t(1) << 40) - 1);
    ASSERT_EQ(e.header.source_message_id, index);
    ASSERT_EQ(e.header.dtype, shm::DType::kU16);
    ASSERT_EQ(e.header.channels, 2u);
    std::vector<std::byte> frame(expected.frame_bytes());
    expected.fill(index, frame);
    EXPECT_EQ(e.payload, frame) << "event " << index;
  }
}

TEST(IngestdSources, RecordedMessagesReplayIntoTheSameEvents) {
  InstanceFixture run("replay");
  const std::string endpoint = "ipc://" + (run.socket_file()).string();
  const fs::path recording = run.dir.path / "recording";
  {
    const auto config = write_config(run.dir, run.name, {{"slots", 32}, {"slot_bytes", 64 << 10}},
                                     {{"endpoints", {{{"url", endpoint}}}}, {"idle_timeout_s", 1.0}});
    auto reader = std::async(std::launch::async, [&] { return read_q1_until_finished(run.shm.q1(), 30s); });
    ChildProcess ingestd({ingestd_binary(), "--config", config.string(), "--record", recording.string()},
                         run.log("ingestd-record"));
    ASSERT_TRUE(eventually([&] { return fs::exists(run.socket_file()) || !ingestd.running(); }, 20s));
    ChildProcess pusher({pusher_binary(), "-e", endpoint, "--count", "5", "--format", "npz-deflate", "--shape", "2",
                         "1", "16", "24", "--linger", "-1"},
                        run.log("pusher"));
    ASSERT_EQ(pusher.wait(30s), std::optional<int>(0)) << read_text(run.log("pusher"));
    ASSERT_EQ(ingestd.wait(30s), std::optional<int>(0)) << read_text(run.log("ingestd-record"));
    ASSERT_EQ(reader.get().size(), 10u);
  }
  run.shm.unlink_all();
  const auto config = write_config(run.dir, run.name, {{"slots", 32}, {"slot_bytes", 64 << 10}},
                                   {{"source", "replay"}, {"replay", {{"dir", recording.string()}, {"speed", 0}}}});
  auto reader = std::async(std::launch::async, [&] { return read_q1_until_finished(run.shm.q1(), 30s); });
  ChildProcess replay({ingestd_binary(), "--config", config.string()}, run.log("ingestd-replay"));
  ASSERT_EQ(replay.wait(30s), std::optional<int>(0)) << read_text(run.log("ingestd-replay"));
  const auto events = reader.get();
  ASSERT_EQ(events.size(), 10u);
  std::set<uint64_t> keys;
  for (const auto& e : events) {
    const auto key = static_cast<uint64_t>(e.header.timestamp);
    keys.insert(key);
    EXPECT_TRUE(pusher::check_pattern(key, "<f4", 16 * 24, reinterpret_cast<const uint8_t*>(e.payload.data())));
  }
  EXPECT_EQ(keys.size(), 10u);
}

}  // namespace
}  // namespace peaknet::ingestd::testing

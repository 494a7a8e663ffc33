// WriterService in-process on a real Q2 ring: hit filter, files of K rows, ledger, duplicates,
// restart de-duplication from completed files, live keys, summary.
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <zmq.hpp>

#include <gtest/gtest.h>

#include "writerd/cxi_file.hpp"
#include "writerd/writer_service.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using testing::all_written_ids;
using testing::files_with_suffix;
using testing::publish_event;
using testing::TestSandbox;

// What DaemonRuntime does after validating the config: the entry of writerd's live-key table.
bool apply_live(WriterService& sut, const std::string& key, const nlohmann::json& value, std::string& error) {
  return common::apply_live_key(sut.live_keys(), key, value, error);
}

config::SuiteConfig make_config(const nlohmann::json& j) { return config::parse_suite_config(j); }

TEST(WriterdService, WritesHitsFiltersNonHitsAndBalancesTheLedger) {
  TestSandbox box;
  const auto cfg = make_config(box.config_json());
  shm::Ring q2 = testing::producer_ring(cfg);
  std::set<uint64_t> hits;
  for (uint64_t id = 100; id < 130; ++id) {
    const uint32_t n = id % 2 ? 3 : 12;  // min_num_peak 10
    publish_event(q2, {id, n});
    if (n >= 10) hits.insert(id);
  }
  q2.finish_producing();
  WriterService sut(cfg);
  EXPECT_EQ(sut.run(), 0);

  const auto out = box.dir() / "out";
  const auto ids = all_written_ids(out);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()), hits);
  EXPECT_EQ(ids.size(), hits.size());
  EXPECT_EQ(files_with_suffix(out, ".cxi").size(), 2u);  // 15 hits, K = 8
  EXPECT_TRUE(files_with_suffix(out, ".inprogress").empty());
  const auto s = sut.stats();
  EXPECT_EQ(s["events_in"], 30);
  EXPECT_EQ(s["events_written"], 15);
  EXPECT_EQ(s["events_filtered"], 15);
  EXPECT_EQ(s["files_closed"], 2);
  EXPECT_EQ(s["held_slots"], 0);
  EXPECT_EQ(q2.counters().released, 30u);
  std::ifstream in(out / (box.run_name() + "-writerd-summary.json"));
  const auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["reason"], "q2_finished");
  EXPECT_EQ(summary["counters"]["events_written"], 15);
  EXPECT_EQ(summary["files"].size(), 2u);
  EXPECT_EQ(summary["files_total"], 2);
}

TEST(WriterdService, DuplicateEventIdsAreWrittenOnce) {
  TestSandbox box;
  const auto cfg = make_config(box.config_json());
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id : {1, 2, 1, 3, 2, 2}) publish_event(q2, {id, 20});
  q2.finish_producing();
  WriterService sut(cfg);
  EXPECT_EQ(sut.run(), 0);
  EXPECT_EQ(all_written_ids(box.dir() / "out"), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(sut.stats()["duplicates_skipped"], 3);
}

TEST(WriterdService, RestartSkipsEventsOfCompletedFilesAndRemovesStaleInProgress) {
  TestSandbox box;
  const auto cfg = make_config(box.config_json());
  {
    shm::Ring q2 = testing::producer_ring(cfg);
    for (uint64_t id = 1; id <= 10; ++id) publish_event(q2, {id, 20});
    q2.finish_producing();
    WriterService first(cfg);
    ASSERT_EQ(first.run(), 0);
  }
  const auto out = box.dir() / "out";
  std::ofstream(out / (box.run_name() + "_000099.cxi.inprogress")) << "half a file";
  // Events 5..10 come again (as after a crash between rename and release), 11..14 are new.
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 5; id <= 14; ++id) publish_event(q2, {id, 20});
  q2.finish_producing();
  WriterService second(cfg);
  ASSERT_EQ(second.run(), 0);
  const auto ids = all_written_ids(out);
  std::multiset<uint64_t> counted(ids.begin(), ids.end());
  for (uint64_t id = 1; id <= 14; ++id) EXPECT_EQ(counted.count(id), 1u) << "event " << id;
  EXPECT_TRUE(files_with_suffix(out, ".inprogress").empty());
  // The new file continues after the stale file's number.
  EXPECT_TRUE(std::filesystem::exists(out / (box.run_name() + "_000100.cxi")));
}

// Rings removed between two runs into one output dir (peakctl clean, reboot): ids restart at 0 under a
// new ingest epoch. Every new event is written; a re-delivery of the first run's event is still skipped.
TEST(WriterdService, IdsOfANewEpochAreNewEventsWhileRedeliveriesAreSkipped) {
  TestSandbox box;
  const auto cfg = make_config(box.config_json());
  const uint64_t first_epoch = 0x1111, second_epoch = 0x2222;
  {
    shm::Ring q2 = testing::producer_ring(cfg);
    for (uint64_t id = 0; id < 10; ++id) publish_event(q2, {id, 20, 1.0, first_epoch});
    q2.finish_producing();
    WriterService first(cfg);
    ASSERT_EQ(first.run(), 0);
  }
  shm::Ring::unlink(box.q2_name());  // as peakctl clean / a reboot: ring and counter block gone
  shm::CounterBlock::unlink(box.run_name() + "-stats-writerd");
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 0; id < 10; ++id) publish_event(q2, {id, 20, 1.0, second_epoch});
  publish_event(q2, {4, 20, 1.0, first_epoch});  // the first run's event, delivered again
  q2.finish_producing();
  WriterService second(cfg);
  ASSERT_EQ(second.run(), 0);
  EXPECT_EQ(second.stats()["events_written"], 10);
  EXPECT_EQ(second.stats()["duplicates_skipped"], 1);
  std::multiset<std::pair<uint64_t, uint64_t>> written;
  for (const auto& f : files_with_suffix(box.dir() / "out", ".cxi")) {
    for (const EventKey& k : CxiFile::read_event_keys(f)) written.insert({k.epoch, k.id});
  }
  ASSERT_EQ(written.size(), 20u);
  for (uint64_t id = 0; id < 10; ++id) {
    EXPECT_EQ(written.count({first_epoch, id}), 1u) << "first run, event " << id;
    EXPECT_EQ(written.count({second_epoch, id}), 1u) << "second run, event " << id;
  }
}

TEST(WriterdService, LiveMinNumPeakAndKeepAllEvents) {
  TestSandbox box;
  auto j = box.config_json();
  const auto cfg = make_config(j);
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 1; id <= 6; ++id) publish_event(q2, {id, uint32_t(id)});
  q2.finish_producing();
  WriterService sut(cfg);
  std::string error;
  EXPECT_TRUE(apply_live(sut, "peaks.min_num_peak", 4, error)) << error;
  EXPECT_FALSE(apply_live(sut, "peaks.min_num_peak", -1, error));
  EXPECT_NE(error.find("peaks.min_num_peak"), std::string::npos);
  EXPECT_FALSE(apply_live(sut, "writerd.geometry", "x.geom", error));
  EXPECT_FALSE(apply_live(sut, "writerd.on_error", "ignore", error));
  ASSERT_EQ(sut.run(), 0);
  EXPECT_EQ(all_written_ids(box.dir() / "out"), (std::vector<uint64_t>{4, 5, 6}));

  TestSandbox box2;
  j = box2.config_json();
  j["writerd"]["keep_all_events"] = true;
  const auto cfg2 = make_config(j);
  shm::Ring q2b = testing::producer_ring(cfg2);
  for (uint64_t id = 1; id <= 3; ++id) publish_event(q2b, {id, uint32_t(id)});
  q2b.finish_producing();
  WriterService keep_all(cfg2);
  ASSERT_EQ(keep_all.run(), 0);
  EXPECT_EQ(all_written_ids(box2.dir() / "out").size(), 3u);
  EXPECT_EQ(keep_all.stats()["nonhits_written"], 3);
}

TEST(WriterdService, MalformedSlotsAreCountedDropsNotCrashes) {
  TestSandbox box;
  const auto cfg = make_config(box.config_json());
  shm::Ring q2 = testing::producer_ring(cfg);
  auto slot = q2.acquire(std::chrono::milliseconds(1000));
  ASSERT_TRUE(slot);
  shm::ResultHeader h{};
  h.event_id = 5;
  h.channels = 1;
  h.height = h.width = h.orig_height = h.orig_width = 4;
  h.n_peaks = h.n_found = 1u << 30;  // cannot fit the slot
  std::memcpy(slot->data(), &h, sizeof h);
  q2.publish(std::move(*slot));
  publish_event(q2, {6, 12});
  q2.finish_producing();
  WriterService sut(cfg);
  ASSERT_EQ(sut.run(), 0);
  EXPECT_EQ(sut.stats()["dropped_malformed"], 1);
  EXPECT_EQ(all_written_ids(box.dir() / "out"), (std::vector<uint64_t>{6}));
}

TEST(WriterdService, PublishesPerEventResultsOnTheFeed) {
  TestSandbox box;
  auto j = box.config_json();
  const std::string endpoint = "ipc://" + (box.dir() / "feed.sock").string();
  j["writerd"]["pub_endpoint"] = endpoint;
  const auto cfg = make_config(j);
  shm::Ring q2 = testing::producer_ring(cfg);
  WriterService sut(cfg);
  zmq::context_t ctx;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  sub.connect(endpoint);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // PUB/SUB join before the first event
  publish_event(q2, {7, 12});
  publish_event(q2, {8, 2});
  q2.finish_producing();
  ASSERT_EQ(sut.run(), 0);
  std::vector<nlohmann::json> got;
  zmq::message_t msg;
  while (got.size() < 2 && sub.recv(msg)) got.push_back(nlohmann::json::parse(msg.to_string()));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["event_id"], 7);
  EXPECT_EQ(got[0]["ingest_epoch"], 0);
  EXPECT_EQ(got[0]["hit"], true);
  EXPECT_EQ(got[0]["n_peaks"], 12);
  EXPECT_EQ(got[1]["event_id"], 8);
  EXPECT_EQ(got[1]["hit"], false);
  EXPECT_EQ(got[1]["written"], false);
}

TEST(WriterdService, LiveOutputDirCompletesTheOpenFileThenSwitches) {
  TestSandbox box;
  auto j = box.config_json();
  j["writerd"]["max_file_age_ms"] = 600000;
  j["writerd"]["stats_interval_ms"] = 10;
  const auto cfg = make_config(j);
  shm::Ring q2 = testing::producer_ring(cfg);
  WriterService sut(cfg);
  std::thread worker([&] { sut.run(); });
  for (uint64_t id = 1; id <= 3; ++id) publish_event(q2, {id, 20});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sut.stats().value("rows_in_open_file", 0) != 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string error;
  EXPECT_TRUE(apply_live(sut, "writerd.output_dir", (box.dir() / "second").string(), error)) << error;
  EXPECT_TRUE(apply_live(sut, "writerd.events_per_file", 2, error)) << error;
  // Applied by the work loop at its next iteration: wait until stats() shows it.
  while (sut.stats().value("output_dir", "") != (box.dir() / "second").string() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (uint64_t id = 4; id <= 6; ++id) publish_event(q2, {id, 20});
  q2.finish_producing();
  worker.join();
  EXPECT_EQ(all_written_ids(box.dir() / "out"), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(all_written_ids(box.dir() / "second"), (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_EQ(files_with_suffix(box.dir() / "second", ".cxi").size(), 2u);  // K = 2 now
}

TEST(WriterdService, WritesTheGeometryBesideTheFilesAndKeepsFrameHitsConsistent) {
  TestSandbox box;
  auto j = box.config_json();
  j["q1"] = {{"slot_bytes", 8192}};  // 16x16 float32 frames; q2.slot_bytes is derived
  j["q2"] = {{"slots", 16}};
  j["writerd"]["write_frames"] = true;
  const auto cfg = make_config(j);
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 1; id <= 3; ++id) publish_event(q2, {id, 12});  // hits without a frame
  q2.finish_producing();
  WriterService sut(cfg);
  std::string error;
  // Lowering the threshold below the one inferd copies frames by would ask for frames never copied.
  EXPECT_FALSE(apply_live(sut, "peaks.min_num_peak", 5, error));
  EXPECT_NE(error.find("writerd.write_frames"), std::string::npos) << error;
  EXPECT_TRUE(apply_live(sut, "peaks.min_num_peak", 11, error)) << error;
  EXPECT_EQ(sut.run(), 0);
  // The .geom that describes the files' layout is there, and parses to the slab the data uses.
  const auto geom_path = box.dir() / "out" / (box.run_name() + ".geom");
  ASSERT_TRUE(std::filesystem::exists(geom_path));
  const Geometry g = Geometry::from_geom_file(geom_path.string());
  ASSERT_EQ(g.panels().size(), 1u);
  EXPECT_EQ(g.slab_height(), 16);
  EXPECT_EQ(g.slab_width(), 16);
  // Frameless hits are counted (and logged), never silently written as data.
  EXPECT_EQ(sut.stats()["frames_missing"], 3);
  EXPECT_EQ(sut.stats()["events_written"], 3);
}

TEST(WriterdService, DefaultConfigFileHasAValidWriterdSection) {
  const auto cfg = config::load_suite_config(std::string(PEAKNET_SOURCE_DIR) + "/configs/default.json");
  EXPECT_EQ(cfg.writerd.on_error, config::OnError::kBlock);
  EXPECT_GE(cfg.writerd.events_per_file, 1);
}

}  // namespace
}  // namespace peaknet::writerd

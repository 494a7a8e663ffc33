// writerd under faults: SIGKILL mid-file and restart (real processes), SIGTERM drain, an output
// directory that cannot be written (block keeps events in Q2 and resumes; drop counts them), and an
// output that fails in the middle of a run (held events rewritten exactly once).
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "writerd/cxi_file.hpp"
#include "writerd/writer_service.hpp"
#include "writerd_process.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using namespace std::chrono_literals;
using testing::all_written_ids;
using testing::files_with_suffix;
using testing::publish_event;
using testing::TestSandbox;
using testing::wait_until;
using testing::WriterdProcess;

std::string write_config(const TestSandbox& box, nlohmann::json j) {
  j["run"]["run_dir"] = (box.dir() / "run").string();
  const std::string path = (box.dir() / "writerd.json").string();
  std::ofstream(path) << j.dump(1);
  return path;
}

void expect_each_once(const std::vector<uint64_t>& ids, uint64_t first, uint64_t last) {
  const std::multiset<uint64_t> counted(ids.begin(), ids.end());
  for (uint64_t id = first; id <= last; ++id) EXPECT_EQ(counted.count(id), 1u) << "event " << id;
  EXPECT_EQ(ids.size(), last - first + 1);
}

TEST(WriterdFault, SigkillMidFileThenRestartWritesEveryEventExactlyOnce) {
  TestSandbox box;
  auto j = box.config_json();
  j["writerd"]["events_per_file"] = 10;
  j["writerd"]["max_file_age_ms"] = 600000;  // the third file stays open until the kill
  const std::string cfg_path = write_config(box, j);
  const auto cfg = config::parse_suite_config(j);
  const auto out = box.dir() / "out";
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 1; id <= 25; ++id) publish_event(q2, {id, 20});
  {
    WriterdProcess first(cfg_path, (box.dir() / "writerd-1.log").string());
    ASSERT_TRUE(wait_until(
        [&] { return files_with_suffix(out, ".cxi").size() == 2 && files_with_suffix(out, ".inprogress").size() == 1; },
        20s))
        << "writerd did not reach the mid-file state";
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(5s), -SIGKILL);
  }
  // Every *.cxi is complete; the half file never got the name.
  for (const auto& f : files_with_suffix(out, ".cxi")) EXPECT_EQ(CxiFile::read_event_ids(f).size(), 10u) << f;
  EXPECT_EQ(files_with_suffix(out, ".inprogress").size(), 1u);

  for (uint64_t id = 26; id <= 30; ++id) publish_event(q2, {id, 20});
  q2.finish_producing();
  WriterdProcess second(cfg_path, (box.dir() / "writerd-2.log").string());
  ASSERT_EQ(second.wait(30s), 0) << "see " << (box.dir() / "writerd-2.log");
  expect_each_once(all_written_ids(out), 1, 30);
  EXPECT_TRUE(files_with_suffix(out, ".inprogress").empty());
  EXPECT_GE(q2.counters().requeued, 5u);  // the killed writerd's held events came back
  std::ifstream in(out / (box.run_name() + "-writerd-summary.json"));
  const auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["counters"]["events_written"], 30);  // the counter block survived the kill
  EXPECT_EQ(summary["counters"]["dropped_write_error"], 0);
}

TEST(WriterdFault, SigtermDrainsWhatIsClaimableAndCompletesTheFile) {
  TestSandbox box;
  auto j = box.config_json();
  j["writerd"]["events_per_file"] = 10;
  j["writerd"]["max_file_age_ms"] = 600000;
  const std::string cfg_path = write_config(box, j);
  const auto cfg = config::parse_suite_config(j);
  const auto out = box.dir() / "out";
  shm::Ring q2 = testing::producer_ring(cfg);  // never finishes: only the signal ends writerd
  for (uint64_t id = 1; id <= 15; ++id) publish_event(q2, {id, 20});
  WriterdProcess sut(cfg_path, (box.dir() / "writerd.log").string());
  ASSERT_TRUE(wait_until([&] { return files_with_suffix(out, ".cxi").size() == 1; }, 20s));
  sut.signal(SIGTERM);
  ASSERT_EQ(sut.wait(20s), 0);
  expect_each_once(all_written_ids(out), 1, 15);
  EXPECT_TRUE(files_with_suffix(out, ".inprogress").empty());
}

TEST(WriterdFault, FullDiskKeepsEventsInQ2AndResumesWhenSpaceReturns) {
  TestSandbox box;
  auto j = box.config_json();
  j["writerd"]["events_per_file"] = 5;
  const std::string cfg_path = write_config(box, j);
  const auto cfg = config::parse_suite_config(j);
  const auto out = box.dir() / "out";
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 1; id <= 12; ++id) publish_event(q2, {id, 20});
  q2.finish_producing();
  // The file size limit also applies to shm segments: create the counter block here, writerd attaches.
  auto stats = shm::CounterBlock::open_or_create(box.run_name() + "-stats-writerd");
  // 16 KiB: logs and the pid file fit, a CXI file (~35 KB) does not.
  WriterdProcess sut(cfg_path, (box.dir() / "writerd.log").string(), /*max_file_bytes=*/16384);
  auto log_text = [&] {
    std::ifstream in(box.dir() / "writerd.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_TRUE(wait_until([&] { return log_text().find("output failed") != std::string::npos; }, 20s)) << log_text();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(q2.counters().released, 0u);  // nothing left Q2 while the disk is "full"
  EXPECT_TRUE(files_with_suffix(out, ".cxi").empty());
  ASSERT_TRUE(sut.set_max_file_bytes(RLIM_INFINITY));
  ASSERT_EQ(sut.wait(30s), 0) << log_text();
  expect_each_once(all_written_ids(out), 1, 12);
  EXPECT_TRUE(files_with_suffix(out, ".inprogress").empty());
  std::ifstream in(out / (box.run_name() + "-writerd-summary.json"));
  const auto summary = nlohmann::json::parse(in);
  EXPECT_GE(summary["counters"]["write_errors"].get<uint64_t>(), 1u);
  EXPECT_EQ(summary["counters"]["dropped_write_error"], 0);
}

// Library-level: the output dir is below a regular file, so it cannot be created (root included).
struct BlockedOutput {
  TestSandbox box;
  std::filesystem::path blocker = box.dir() / "blocker";
  nlohmann::json config_json(const std::string& on_error) {
    std::ofstream(blocker) << "not a directory";
    auto j = box.config_json();
    j["writerd"]["output_dir"] = (blocker / "out").string();
    j["writerd"]["on_error"] = on_error;
    return j;
  }
};

TEST(WriterdFault, UnwritableOutputKeepsEventsInQ2AndResumesWhenWritable) {
  BlockedOutput fixture;
  const auto cfg = config::parse_suite_config(fixture.config_json("block"));
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 1; id <= 12; ++id) publish_event(q2, {id, 20});
  q2.finish_producing();
  WriterService sut(cfg);
  int code = -1;
  std::thread worker([&] { code = sut.run(); });
  EXPECT_TRUE(wait_until([&] { return sut.stats()["write_errors"].get<uint64_t>() >= 2; }, 10s));
  EXPECT_EQ(sut.stats()["output_failed"], 1);
  EXPECT_EQ(q2.counters().released, 0u);  // backpressure: nothing left Q2
  EXPECT_EQ(q2.counters().ready + q2.counters().claimed, 12u);
  std::filesystem::remove(fixture.blocker);  // the directory can be made now
  worker.join();
  EXPECT_EQ(code, 0);
  expect_each_once(all_written_ids(fixture.blocker / "out"), 1, 12);
  const auto s = sut.stats();
  EXPECT_EQ(s["output_failed"], 0);
  EXPECT_EQ(s["dropped_write_error"], 0);
  EXPECT_EQ(s["events_written"], 12);
}

TEST(WriterdFault, UnwritableOutputUnderDropPolicyCountsEveryDrop) {
  BlockedOutput fixture;
  const auto cfg = config::parse_suite_config(fixture.config_json("drop"));
  shm::Ring q2 = testing::producer_ring(cfg);
  for (uint64_t id = 1; id <= 12; ++id) publish_event(q2, {id, id <= 9 ? 20u : 1u});
  q2.finish_producing();
  WriterService sut(cfg);
  EXPECT_EQ(sut.run(), 0);
  const auto s = sut.stats();
  EXPECT_EQ(s["dropped_write_error"], 9);
  EXPECT_EQ(s["events_filtered"], 3);
  EXPECT_EQ(s["events_written"], 0);
  EXPECT_EQ(q2.counters().released, 12u);
  EXPECT_GE(s["write_errors"].get<uint64_t>(), 1u);
}

TEST(WriterdFault, OutputFailingMidRunRewritesHeldEventsExactlyOnce) {
  TestSandbox box;
  auto j = box.config_json();
  j["writerd"]["events_per_file"] = 4;
  j["writerd"]["max_file_age_ms"] = 600000;
  const auto cfg = config::parse_suite_config(j);
  const auto out = box.dir() / "out", moved = box.dir() / "moved";
  shm::Ring q2 = testing::producer_ring(cfg);
  WriterService sut(cfg);
  int code = -1;
  std::thread worker([&] { code = sut.run(); });
  for (uint64_t id = 1; id <= 4; ++id) publish_event(q2, {id, 20});
  ASSERT_TRUE(wait_until([&] { return sut.stats()["files_closed"].get<uint64_t>() == 1; }, 10s));
  std::filesystem::rename(out, moved);      // the output disappears ...
  std::ofstream(out) << "not a directory";  // ... and cannot be recreated
  for (uint64_t id = 5; id <= 7; ++id) publish_event(q2, {id, 20});
  EXPECT_TRUE(wait_until([&] { return sut.stats()["write_errors"].get<uint64_t>() >= 1; }, 10s));
  EXPECT_EQ(q2.counters().released, 4u);  // 5..7 are still held in Q2
  std::filesystem::remove(out);
  q2.finish_producing();
  worker.join();
  EXPECT_EQ(code, 0);
  std::vector<uint64_t> ids = all_written_ids(moved);
  for (uint64_t id : all_written_ids(out)) ids.push_back(id);
  expect_each_once(ids, 1, 7);
}

}  // namespace
}  // namespace peaknet::writerd

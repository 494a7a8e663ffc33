// Real inferd processes on one Q1: SIGKILL one mid-batch, a second one finishes its claimed events
// (libshm leases requeue them); two inferds sharing Q1 each claim their own batches.
// Every event id must come out of Q2 at least once, and exactly once after de-duplication by id.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "inferd_q2_records.hpp"
#include "inferd_test_events.hpp"

using namespace peaknet;
using namespace peaknet::inferd::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr uint32_t kH = 192, kW = 192;

/// A child process running the inferd binary; killed (SIGKILL) if still running at destruction.
class Child {
 public:
  Child(const std::string& config_path, const std::vector<std::string>& sets) {
    std::vector<std::string> args{PEAKNET_BINARY_DIR "/daemons/inferd/inferd", "--config", config_path};
    for (const auto& s : sets) {
      args.push_back("--set");
      args.push_back(s);
    }
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void kill9() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  /// Exit code, or -1 on timeout / signal.
  int wait(std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

struct ProcessTest : ::testing::Test {
  ShmRun run{"proc"};
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("peaknet-inferd-test-" + std::to_string(getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string config_path;

  void SetUp() override {
    std::filesystem::create_directories(dir);
    config_path = (dir / "suite.json").string();
    const json cfg = {{"run", {{"name", run.name()}, {"log_level", "warn"}, {"run_dir", (dir / "run").string()}}},
                      {"q1", {{"slots", 32}, {"slot_bytes", 262144}}},
                      {"q2", {{"slots", 128}}},  // slot_bytes derived: room for hit frames (writerd.write_frames)
                      {"inferd",
                       {{"device", "cpu"},
                        {"batch_size", 4},
                        {"max_wait_ms", 10},
                        {"cpu_threads", 1},
                        {"warmup_iterations", 0},
                        {"model",
                         {{"config",
                           {{"backbone_hidden_sizes", {24, 48, 96, 192}},
                            {"backbone_depths", {1, 1, 2, 1}},
                            {"bifpn_num_blocks", 2},
                            {"bifpn_num_features", 64},
                            {"seg_out_channels", 64}}},
                          {"weights", PEAKNET_GOLDEN_DIR "/model/tiny.safetensors"}}}}}};
    std::ofstream(config_path) << cfg.dump(2);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  /// Publishes `n` events (ids 1000..) into Q1 and finishes producing.
  shm::Ring fill_q1(uint32_t n) {
    shm::Ring q1 = shm::Ring::open_or_create(ring_options(run.q1(), 32, 262144));
    std::vector<float> px(kH * kW);
    for (uint32_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < px.size(); ++k) px[k] = float((k * 7919 + i * 104729) % 1000) / 10.f;
      publish_event(q1, make_event(1000 + i, 1, kH, kW), px.data());
    }
    q1.finish_producing();
    return q1;
  }

  static bool wait_for(const std::function<bool()>& cond, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (cond()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

}  // namespace

TEST_F(ProcessTest, KilledMidBatchItsEventsAreFinishedByASecondInferd) {
  constexpr uint32_t kEvents = 24;
  shm::Ring q1 = fill_q1(kEvents);
  {
    Child first(config_path, {});
    // Mid-batch: some results are already in Q2 and a batch is claimed (leased) right now.
    ASSERT_TRUE(wait_for([&] { return shm::Ring::exists(run.q2()); }, 60s));
    shm::Ring q2_probe = shm::Ring::attach(run.q2());
    ASSERT_TRUE(wait_for([&] { return q2_probe.counters().published >= 1 && q1.counters().claimed > 0; }, 60s))
        << "first inferd never got going";
    first.kill9();
  }
  EXPECT_GT(q1.counters().claimed + q1.counters().requeued, 0u);
  Child second(config_path, {"inferd.cpu_index=1"});
  ASSERT_EQ(second.wait(120s), 0) << "second inferd did not drain Q1 and exit 0";
  EXPECT_GE(q1.counters().requeued, 1u) << "the killed inferd's claims were not requeued";
  EXPECT_TRUE(q1.finished());

  shm::Ring q2 = shm::Ring::attach(run.q2());
  const auto records = drain_q2(q2, 300ms);
  std::set<uint64_t> unique;
  std::set<uint32_t> producers;
  for (const auto& r : records) {
    unique.insert(r.header.event_id);
    producers.insert(r.header.producer_id);
  }
  EXPECT_GE(records.size(), size_t(kEvents));
  ASSERT_EQ(unique.size(), size_t(kEvents)) << "events lost or invented";
  EXPECT_EQ(*unique.begin(), 1000u);
  EXPECT_EQ(*unique.rbegin(), 1000u + kEvents - 1);
  EXPECT_EQ(producers, (std::set<uint32_t>{0, 1}));  // both processes published
}

TEST_F(ProcessTest, TwoInferdsShareOneQ1AndEachEventComesOutOnce) {
  constexpr uint32_t kEvents = 16;
  shm::Ring q1 = fill_q1(kEvents);
  Child a(config_path, {"inferd.cpu_index=0"});
  Child b(config_path, {"inferd.cpu_index=1"});
  EXPECT_EQ(a.wait(120s), 0);
  EXPECT_EQ(b.wait(120s), 0);
  shm::Ring q2 = shm::Ring::attach(run.q2());
  const auto records = drain_q2(q2, 300ms);
  std::multiset<uint64_t> ids;
  for (const auto& r : records) ids.insert(r.header.event_id);
  EXPECT_EQ(ids.size(), size_t(kEvents));
  for (uint32_t i = 0; i < kEvents; ++i) EXPECT_EQ(ids.count(1000 + i), 1u) << i;
  EXPECT_TRUE(q2.finished());
}

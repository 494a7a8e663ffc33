#pragma once
// One whole suite instance for end-to-end tests: the real ingestd, inferd (CPU, golden tiny PeakNet)
// and writerd binaries on a pid-unique run name, an ipc:// endpoint and output dir in a temp dir.
// Every process is SIGKILLed and every shm segment unlinked on destruction, also when a test fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../ingestd/ingestd_harness.hpp"
#include "shm/counter_block.hpp"
#include "shm/ring.hpp"

namespace peaknet::e2e::testing {

namespace fs = std::filesystem;
using ingestd::testing::ChildProcess;
using ingestd::testing::eventually;
using ingestd::testing::read_counters;
using ingestd::testing::TempDir;
using ingestd::testing::unique_name;
using namespace std::chrono_literals;
using Counters = std::map<std::string, uint64_t>;

/// A binary of this build, or of the tree named by PEAKNET_E2E_BINARY_DIR (same layout: daemons/...),
/// e.g. to run the tests against another build's daemons.
inline std::string binary(const std::string& relative) {
  const char* other = std::getenv("PEAKNET_E2E_BINARY_DIR");
  return std::string(other && *other ? other : PEAKNET_BINARY_DIR) + "/" + relative;
}

/// The golden tiny PeakNet (the one tests/integration/inferd checks against its reference outputs).
inline nlohmann::json tiny_model_json() {
  return {{"config",
           {{"backbone_hidden_sizes", {24, 48, 96, 192}},
            {"backbone_depths", {1, 1, 2, 1}},
            {"bifpn_num_blocks", 2},
            {"bifpn_num_features", 64},
            {"seg_out_channels", 64}}},
          {"weights", PEAKNET_GOLDEN_DIR "/model/tiny.safetensors"}};
}

/// Every shm segment of run `name` (Q1, Q2, the three daemons' counter blocks), unlinked twice:
/// before the run (a crashed earlier run with the same pid) and at destruction.
struct SuiteShm {
  std::string name;
  explicit SuiteShm(std::string run) : name(std::move(run)) { unlink_all(); }
  ~SuiteShm() { unlink_all(); }
  SuiteShm(const SuiteShm&) = delete;
  SuiteShm& operator=(const SuiteShm&) = delete;
  std::string ingestd_block() const { return name + "-stats-ingestd"; }
  std::string inferd_block() const { return name + "-stats-inferd-cpu0"; }
  std::string writerd_block() const { return name + "-stats-writerd"; }
  void unlink_all() const {
    shm::Ring::unlink(name + "-q1");
    shm::Ring::unlink(name + "-q2");
    for (const auto& block : {ingestd_block(), inferd_block(), writerd_block()}) shm::CounterBlock::unlink(block);
  }
};

/// Counters of the three daemons after a run, and the suite-wide ledger.
struct SuiteCounters {
  Counters ingestd, inferd, writerd;
  /// Every `dropped_*` counter of every daemon (events that left the suite without a file row).
  uint64_t dropped() const {
    uint64_t sum = 0;
    for (const auto* block : {&ingestd, &inferd, &writerd}) {
      for (const auto& [name, value] : *block) {
        if (name.rfind("dropped_", 0) == 0) sum += value;
      }
    }
    return sum;
  }
  uint64_t get(const Counters& block, const std::string& name) const {
    const auto it = block.find(name);
    return it == block.end() ? 0 : it->second;
  }
};

/// A suite instance: config, daemons, pusher runs, the ledger at the end.
class Suite {
 public:
  /// `ingestd_patch` is merged into the generated ingestd section.
  explicit Suite(const std::string& test, const nlohmann::json& ingestd_patch = nlohmann::json::object())
      : name_(unique_name("e2e-" + test)), shm_(name_), dir_(name_) {
    nlohmann::json ingestd = {{"source", "zmq"},
                              {"endpoints", {{{"url", endpoint()}, {"mode", "bind"}}}},
                              {"decode_threads", 1},  // event ids follow the send order
                              {"receive_hwm", 1000},
                              {"end_on_simplon_stop", false}};
    ingestd.merge_patch(ingestd_patch);
    const nlohmann::json config = {
        {"run", {{"name", name_}, {"log_level", "warn"}, {"run_dir", (dir_.path / "run").string()}}},
        {"q1", {{"slots", 32}, {"slot_bytes", 1 << 18}, {"policy", "block"}}},
        {"q2", {{"slots", 32}, {"policy", "block"}}},  // slot_bytes derived: room for hit frames
        {"peaks", {{"max_num_peak", kMaxNumPeak}, {"min_num_peak", 3}}},
        {"ingestd", ingestd},
        {"inferd",
         {{"device", "cpu"},
          {"batch_size", 4},
          {"max_wait_ms", 10},
          {"cpu_threads", 1},
          {"warmup_iterations", 0},
          {"model", tiny_model_json()}}},
        {"writerd",
         {{"output_dir", output_dir().string()}, {"events_per_file", 8}, {"fsync", "none"}, {"keep_all_events", true}}},
        {"control", {{"metrics_port", 0}, {"stats_interval_ms", 200}}}};
    std::ofstream(config_path()) << config.dump(2);
  }

  static constexpr int kMaxNumPeak = 256;

  const std::string& name() const { return name_; }
  std::string endpoint() const { return "ipc://" + (dir_.path / "in.sock").string(); }
  fs::path output_dir() const { return dir_.path / "cxi"; }
  fs::path config_path() const { return dir_.path / "suite.json"; }
  fs::path log(const std::string& what) const { return dir_.path / (what + ".log"); }

  /// Starts writerd, inferd and ingestd (consumers first) and waits for ingestd's endpoint.
  void start() {
    writerd_ = start_daemon("daemons/writerd/writerd", "writerd");
    inferd_ = start_daemon("daemons/inferd/inferd", "inferd");
    ingestd_ = start_daemon("daemons/ingestd/ingestd", "ingestd");
    ASSERT_TRUE(eventually([&] { return fs::exists(dir_.path / "in.sock") || !ingestd_->running(); }, 20s));
    ASSERT_TRUE(ingestd_->running()) << logs();
  }

  /// Runs peaknet-pusher with `args` (endpoint, SNDHWM 5 and delivery-on-close added); its exit code.
  int push(const std::vector<std::string>& args, const std::string& log_name = "pusher") {
    std::vector<std::string> argv{
        binary("daemons/ingestd/tools/pusher/peaknet-pusher"), "-e", endpoint(), "--sndhwm", "5", "--linger", "-1"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess pusher(argv, log(log_name));
    const auto code = pusher.wait(30s);
    return code ? *code : -1;
  }

  uint64_t ingestd_counter(const std::string& name) {
    const auto c = read_counters(shm_.ingestd_block());
    const auto it = c.find(name);
    return it == c.end() ? 0 : it->second;
  }

  /// Waits until ingestd decoded (or rejected) `messages`, then drains the suite: SIGTERM to ingestd
  /// (finish Q1), inferd drains Q1 and finishes Q2, writerd completes its file; all exit 0.
  /// (Waiting for decoding, not only receipt: a message that a receive thread holds while the decode
  /// queue is full when the drain starts is discarded and counted `messages_discarded`.)
  void drain_after(uint64_t messages) {
    const auto processed = [&] { return ingestd_counter("messages_decoded") + ingestd_counter("messages_rejected"); };
    EXPECT_TRUE(eventually([&] { return processed() >= messages; }, 30s))
        << "ingestd processed " << processed() << " of " << messages << " messages";
    ingestd_->signal(SIGTERM);
    EXPECT_EQ(ingestd_->wait(20s), std::optional<int>(0)) << logs();
    EXPECT_EQ(inferd_->wait(60s), std::optional<int>(0)) << logs();
    EXPECT_EQ(writerd_->wait(30s), std::optional<int>(0)) << logs();
  }

  SuiteCounters counters() const {
    return {read_counters(shm_.ingestd_block()), read_counters(shm_.inferd_block()),
            read_counters(shm_.writerd_block())};
  }

  /// The completed CXI files, in name (= sequence) order.
  std::vector<fs::path> cxi_files() const {
    std::vector<fs::path> files;
    if (!fs::exists(output_dir())) return files;
    for (const auto& e : fs::directory_iterator(output_dir())) {
      if (e.path().extension() == ".cxi") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string logs() const {
    std::string out;
    for (const char* what : {"ingestd", "inferd", "writerd", "pusher"}) {
      if (fs::exists(log(what))) out += std::string("\n--- ") + what + ":\n" + ingestd::testing::read_text(log(what));
    }
    return out;
  }

 private:
  std::unique_ptr<ChildProcess> start_daemon(const std::string& relative, const std::string& what) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{binary(relative), "--config", config_path().string()}, log(what));
  }

  std::string name_;
  SuiteShm shm_;
  TempDir dir_;
  // Declared after the guards: destroyed (SIGKILL + reap) before the segments are unlinked.
  std::unique_ptr<ChildProcess> writerd_, inferd_, ingestd_;
};

/// Suite-wide ledger at the end of a run: everything received was written, filtered or dropped
/// (counted), and nothing is in flight in any stage.
inline void expect_ledger_balanced(const SuiteCounters& c) {
  const uint64_t received = c.get(c.ingestd, "events_received");
  const uint64_t written = c.get(c.writerd, "events_written");
  const uint64_t filtered = c.get(c.writerd, "events_filtered");
  EXPECT_EQ(received, written + filtered + c.dropped())
      << "received " << received << " written " << written << " filtered " << filtered << " dropped " << c.dropped();
  EXPECT_EQ(c.get(c.ingestd, "events_enqueued"), c.get(c.inferd, "events_in")) << "lost between Q1 and inferd";
  EXPECT_EQ(c.get(c.inferd, "events_out"), c.get(c.writerd, "events_in")) << "lost between Q2 and writerd";
  EXPECT_EQ(c.get(c.inferd, "in_flight"), 0u) << "events still in inferd";
  EXPECT_EQ(c.get(c.writerd, "held_slots"), 0u) << "events still held by writerd";
  EXPECT_EQ(c.get(c.writerd, "duplicates_skipped"), 0u);
}

}  // namespace peaknet::e2e::testing

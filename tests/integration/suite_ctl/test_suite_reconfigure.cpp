// peakctl reconfigure during a stream against the real daemons: every live key is accepted and visible
// (config_get, stats, the files on disk), a restart-only key is refused saying so, a model swap happens
// between batches — and at the end the ledger balances with nothing dropped.
#include "common/control_client.hpp"
#include "suite_fixture.hpp"

using nlohmann::json;
using peaknet::test::json_in;
using peaknet::test::shell;

namespace {
class Reconfigure : public peaknet::test::RealSuite {
 protected:
  /// Without frames of hits: peaks.min_num_peak may then go below its start value live (with frames,
  /// inferd copies by the start value, so writerd refuses a lower one: tests/unit/writerd).
  peaknet::test::ShellResult start() {
    json cfg = suite_config();
    cfg["writerd"]["write_frames"] = false;
    write_config(cfg);
    return shell(ctl("start --no-systemd --cpu"));
  }
  json config_get(const std::string& id, const std::string& key) {
    return peaknet::common::control_request("ipc://" + run_dir + "/" + id + ".sock",
                                            {{"cmd", "config_get"}, {"key", key}});
  }
  /// Stops the suite gracefully; expects a balanced ledger with no drop at all.
  void stop_and_expect_nothing_lost() {
    const auto r = shell(ctl("stop --json"));
    ASSERT_EQ(r.rc, 0) << r.out;
    const json l = json_in(r.out)["ledger"];
    ASSERT_TRUE(l.is_object()) << r.out;
    EXPECT_EQ(l["in_flight"].get<double>(), 0) << r.out;
    EXPECT_EQ(l["dropped"].get<double>(), 0) << r.out;
    EXPECT_GT(l["received"].get<double>(), 0) << r.out;
    EXPECT_EQ(l["received"].get<double>(), l["written"].get<double>() + l["filtered"].get<double>()) << r.out;
  }
};
}  // namespace

TEST_F(Reconfigure, EveryLiveKeyAppliesDuringAStreamAndNothingIsLost) {
  auto r = start();
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(wait_written(4));

  auto digest = [&](const std::string& id) {
    return peaknet::common::control_request("ipc://" + run_dir + "/" + id + ".sock", {{"cmd", "status"}})
        .value("config_digest", std::string());
  };
  const std::string inferd_digest = digest("inferd-cpu0"), writerd_digest = digest("writerd");
  const std::string out2 = dir + "/out2";
  r =
      shell(ctl("reconfigure inferd.batch_size=1 inferd.max_wait_ms=7 peaks.min_num_peak=0 "
                "writerd.events_per_file=4 writerd.output_dir=" +
                out2 + " writerd.on_error=block q1.policy=block ingestd.synthetic.rate_hz=30 log_level=debug"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.find("failed"), std::string::npos) << r.out;

  // Visible through config_get on the daemon that owns the key ...
  EXPECT_EQ(config_get("inferd-cpu0", "inferd.batch_size")["value"], 1);
  EXPECT_EQ(config_get("inferd-cpu0", "inferd.max_wait_ms")["value"], 7);
  EXPECT_EQ(config_get("writerd", "peaks.min_num_peak")["value"], 0);
  EXPECT_EQ(config_get("writerd", "writerd.output_dir")["value"], out2);
  EXPECT_EQ(config_get("ingestd", "ingestd.synthetic.rate_hz")["value"], 30);
  EXPECT_EQ(config_get("ingestd", "ingestd.log_level")["value"], "debug");
  r = shell(ctl("config get inferd.batch_size"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("inferd-cpu0: inferd.batch_size = 1"), std::string::npos) << r.out;
  // ... in status (the config digest follows the live config) ...
  EXPECT_NE(digest("inferd-cpu0"), inferd_digest);
  EXPECT_NE(digest("writerd"), writerd_digest);
  // ... and in effect: counters report the new values, rotated files land in the new directory.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  json stats;
  std::string writerd_stats;  // min_num_peak / output_dir are in writerd's control stats, not its shm block
  while (std::chrono::steady_clock::now() < deadline) {
    stats = stats_json();
    writerd_stats = peaknet::common::control_request("ipc://" + run_dir + "/writerd.sock", {{"cmd", "stats"}}).dump();
    if (writerd_stats.find("\"min_num_peak\":0") != std::string::npos && count_files(out2, ".cxi") > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(counter(stats, "inferd", "batch_size"), 1) << stats.dump();
  EXPECT_EQ(counter(stats, "inferd", "max_wait_ms"), 7) << stats.dump();
  EXPECT_NE(writerd_stats.find("\"min_num_peak\":0"), std::string::npos) << writerd_stats;
  EXPECT_NE(writerd_stats.find("\"output_dir\":\"" + out2 + "\""), std::string::npos) << writerd_stats;
  EXPECT_GT(count_files(out2, ".cxi"), 0u) << "no file in the new output dir";
  EXPECT_EQ(counter(stats, "ingestd", "dropped_q1_full"), 0) << stats.dump();

  // Restart-only keys and bad values are refused with the reason; the stream goes on.
  r = shell(ctl("reconfigure q1.slots=32"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("restart needed"), std::string::npos) << r.out;
  EXPECT_EQ(config_get("ingestd", "q1.slots")["value"], 16);
  r = shell(ctl("reconfigure q2.policy=drop_oldest"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("restart needed"), std::string::npos) << r.out;
  r = shell(ctl("reconfigure inferd.batch_size=0"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("inferd.batch_size"), std::string::npos) << r.out;
  EXPECT_EQ(config_get("inferd-cpu0", "inferd.batch_size")["value"], 1);

  stop_and_expect_nothing_lost();
}

TEST_F(Reconfigure, ModelSwapDuringAStreamLosesNothing) {
  auto r = start();
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(wait_written(4));
  const double before = counter(stats_json(), "writerd", "events_written");

  r = shell(ctl("reconfigure --model " + dir + "/missing.safetensors"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("not found"), std::string::npos) << r.out;

  r = shell(ctl("reconfigure --model " + tiny_weights()));
  ASSERT_EQ(r.rc, 0) << r.out;
  json stats;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline) {
    stats = stats_json();
    if (counter(stats, "inferd", "model_swaps") >= 1 && counter(stats, "writerd", "events_written") > before + 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(counter(stats, "inferd", "model_swaps"), 1) << stats.dump();
  EXPECT_GT(counter(stats, "writerd", "events_written"), before + 4) << "the stream stalled after the swap";
  stop_and_expect_nothing_lost();
}

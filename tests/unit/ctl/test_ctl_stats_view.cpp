// Ledger arithmetic, stats flattening, the table and the Prometheus text from a known snapshot.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "metrics.hpp"
#include "stats_snapshot.hpp"
#include "stats_view.hpp"
#include "test_guards.hpp"

using namespace peaknet::ctl;

namespace {
DaemonSample sample(const std::string& id, const std::string& daemon, const nlohmann::json& stats) {
  DaemonSample d;
  d.id = id;
  d.daemon = daemon;
  d.state = "ready";
  absorb_stats_json(stats, d);
  return d;
}

Snapshot two_stage(double received, double written, double filtered, double drops, int64_t t_ns) {
  Snapshot s;
  s.t_ns = t_ns;
  s.daemons.push_back(sample(
      "ingestd", "ingestd",
      {{"events_received", received}, {"bytes_received", received * 1e6}, {"dropped", {{"decode_error", drops}}}}));
  s.daemons.push_back(sample("writerd", "writerd",
                             {{"events_written", written},
                              {"events_filtered", filtered},
                              {"latency_recv_to_file_ns", {{"p50", 2e6}, {"p99", 9e6}, {"count", 10}}}}));
  s.ledger = compute_ledger(s.daemons);
  return s;
}
}  // namespace

TEST(CtlStatsView, LedgerCountsEveryDropReasonAndInFlight) {
  const Snapshot s = two_stage(100, 30, 60, 4, 0);
  EXPECT_DOUBLE_EQ(s.ledger.received, 100);
  EXPECT_DOUBLE_EQ(s.ledger.dropped, 4);
  EXPECT_DOUBLE_EQ(s.ledger.in_flight, 6);
  EXPECT_FALSE(s.ledger.balanced_at_rest());
  EXPECT_DOUBLE_EQ(s.ledger.dropped_by_reason.at("ingestd:decode_error"), 4);
  EXPECT_TRUE(two_stage(100, 36, 60, 4, 0).ledger.balanced_at_rest());
}

TEST(CtlStatsView, RatesComeFromTheDifferenceOfTwoSnapshots) {
  const Snapshot before = two_stage(100, 30, 60, 0, 0);
  const Snapshot after = two_stage(600, 30, 60, 0, 2'000'000'000);
  EXPECT_DOUBLE_EQ(event_rate(after.daemons[0], &before, 2.0), 250.0);
  const auto j = stats_to_json(after, &before);
  EXPECT_DOUBLE_EQ(j["daemons"][0]["rates_per_s"]["bytes_received"].get<double>(), 250e6);
  EXPECT_DOUBLE_EQ(j["daemons"][1]["latencies"]["latency_recv_to_file_ns"]["p99_ms"].get<double>(), 9.0);
  const std::string table = render_stats_table(after, &before, "title");
  EXPECT_NE(table.find("250.0"), std::string::npos) << table;
  EXPECT_NE(table.find("0.250"), std::string::npos) << table;  // GB/s
  EXPECT_NE(table.find("received 600 = written 30 + filtered 60 + dropped 0 + in flight 510"), std::string::npos);
}

TEST(CtlStatsView, PrometheusTextHasTypedFamiliesAndLabels) {
  const std::string text = prometheus_text(two_stage(100, 30, 60, 4, 0));
  EXPECT_NE(text.find("# TYPE peaknet_events_received_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("peaknet_events_received_total{daemon=\"ingestd\",instance=\"\"} 100"), std::string::npos);
  EXPECT_NE(text.find("peaknet_latency_recv_to_file_seconds{daemon=\"writerd\",instance=\"\",quantile=\"0.99\"} 0.009"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("peaknet_ledger_events{column=\"in_flight\"} 6"), std::string::npos);
  EXPECT_NE(text.find("peaknet_daemon_ready{daemon=\"writerd\",instance=\"\"} 1"), std::string::npos);
  // Each family has exactly one TYPE line.
  EXPECT_EQ(text.find("# TYPE peaknet_daemon_up gauge"), text.rfind("# TYPE peaknet_daemon_up gauge"));
}

TEST(CtlStatsView, PrometheusNamesUseBaseUnitsAndPassPromtool) {
  Snapshot s = two_stage(100, 30, 60, 4, 0);
  s.daemons[0].counters["hdf5_lock_held_ns"] = 2e9;  // a time counter in ns -> seconds
  s.daemons[0].is_gauge["max_wait_ms"] = true;
  s.daemons[0].counters["max_wait_ms"] = 20;
  s.daemons[0].is_gauge["gpu_mem_used_mb"] = true;
  s.daemons[0].counters["gpu_mem_used_mb"] = 3;
  const std::string text = prometheus_text(s);
  EXPECT_NE(text.find("peaknet_hdf5_lock_held_seconds_total{daemon=\"ingestd\",instance=\"\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("peaknet_max_wait_seconds{daemon=\"ingestd\",instance=\"\"} 0.02\n"), std::string::npos) << text;
  std::string samples;  // HELP lines name the daemon's own counter; the metric names must not
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP", 0) != 0) samples += line + "\n";
  }
  EXPECT_EQ(samples.find("_ns"), std::string::npos) << samples;
  EXPECT_EQ(samples.find("_ms"), std::string::npos) << samples;
  EXPECT_NE(text.find("peaknet_gpu_mem_used_bytes{daemon=\"ingestd\",instance=\"\"} 3145728\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP peaknet_daemon_ready "), std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian: prometheus)";
  peaknet::test::TempDir dir{"ctl-promtool"};
  const std::string file = dir.path() + "/metrics.txt", log = dir.path() + "/promtool.log";
  std::ofstream(file) << text;
  const int rc = std::system(("promtool check metrics < " + file + " > " + log + " 2>&1").c_str());
  std::ifstream in(log);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << out << text;
}

// peakctl run's progress once ingestd has exited (its counter block is gone): the ledger keeps its
// last numbers (or its final stats file's) instead of "received 0 ... in flight -141".
TEST(CtlStatsView, ProgressKeepsTheNumbersOfADaemonThatExited) {
  peaknet::test::TempDir run_dir{"ctl-vanished"};
  const Snapshot before = two_stage(141, 100, 0, 0, 0);
  Snapshot now = two_stage(0, 141, 0, 0, 1);
  now.daemons.erase(now.daemons.begin());  // ingestd gone: no counters any more
  now.ledger = compute_ledger(now.daemons);
  ASSERT_DOUBLE_EQ(now.ledger.in_flight, -141);  // what the progress line showed before
  keep_vanished_daemons(now, before, run_dir.path());
  EXPECT_DOUBLE_EQ(now.ledger.received, 141);
  EXPECT_DOUBLE_EQ(now.ledger.in_flight, 0);
  ASSERT_EQ(now.daemons.size(), 2u);
  EXPECT_EQ(now.daemons.front().id, "ingestd");  // pipeline order kept

  // Still gone at the next sample: still kept. A final stats file, when written, wins.
  Snapshot later = two_stage(0, 141, 0, 0, 2);
  later.daemons.erase(later.daemons.begin());
  std::ofstream(run_dir.path() + "/ingestd.final.json")
      << nlohmann::json{{"id", "ingestd"},
                        {"daemon", "ingestd"},
                        {"state", "finished"},
                        {"stats", {{"events_received", 143}, {"dropped", {{"decode_error", 2}}}}}}
             .dump();
  keep_vanished_daemons(later, now, run_dir.path());
  EXPECT_DOUBLE_EQ(later.ledger.received, 143);
  EXPECT_DOUBLE_EQ(later.ledger.dropped, 2);
  EXPECT_DOUBLE_EQ(later.ledger.in_flight, 0);
}

// A stalled daemon and events too large for Q1 are spelled out under the table, not only counted.
TEST(CtlStatsView, StallsAndSlotsTooSmallAreSpelledOut) {
  Snapshot s = two_stage(100, 30, 60, 0, 0);
  s.daemons[0].state = "stalled";
  s.daemons[0].stall = "decode thread 3 stuck for 31 s in q1 acquire";
  s.daemons[0].counters["dropped_slot_too_small"] = 16;
  s.daemons[0].counters["q1_slot_bytes_needed"] = 29495296;
  const std::string table = render_stats_table(s, nullptr, "title");
  EXPECT_NE(table.find("STALLED ingestd: decode thread 3 stuck for 31 s in q1 acquire"), std::string::npos) << table;
  EXPECT_NE(table.find("SLOTS TOO SMALL ingestd: 16 events dropped, they need Q1 slots of 29495296 bytes"),
            std::string::npos)
      << table;
  s.daemons[1].counters["masks_missing"] = 7;
  const std::string with_masks = render_stats_table(s, nullptr, "title");
  EXPECT_NE(with_masks.find("MASKS MISSING writerd: 7 hits written without their PeakNet mask"), std::string::npos)
      << with_masks;
  EXPECT_EQ(stats_to_json(s, nullptr)["daemons"][0]["stall"], "decode thread 3 stuck for 31 s in q1 acquire");
  EXPECT_EQ(render_stats_table(two_stage(100, 30, 60, 0, 0), nullptr, "t").find("STALLED"), std::string::npos);
}

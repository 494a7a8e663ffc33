// The systemd watchdog means "making progress or legitimately waiting" (issue 16 item 4) and a stalled
// daemon says so (issue 20), on the real daemons (ingestd over loopback tcp, inferd on the CPU with the
// tiny golden model, writerd), each watched through a NOTIFY_SOCKET the test owns:
//   - ingestd with no input, and ingestd + inferd blocked behind full rings (no writerd), keep petting
//     for several stall timeouts: no gap between WATCHDOG=1 as long as WATCHDOG_USEC, no stall;
//   - a decode / compute / write thread wedged by the test-only hook PEAKNET_TEST_WEDGE stops the pets
//     and shows the stall: status "stalled" naming the stage, counters stalls / stalled, an error line.
#include <gtest/gtest.h>

#include "../../fault/suite/suite_harness.hpp"
#include "common/control_client.hpp"
#include "common/run_dir.hpp"
#include "notify_listener.hpp"

namespace peaknet::watchdog_test {
namespace {

using fault::SuiteOptions;
using fault::SuiteRun;
using ingestd::testing::ChildProcess;
using ingestd::testing::eventually;
using namespace std::chrono_literals;

constexpr std::chrono::microseconds kWatchdog = 2s;  // WATCHDOG_USEC: systemd would kill after a longer gap

std::vector<std::string> batch(uint64_t messages, double rate) {
  return {"--shape", "4", "1", "64", "64", "-c", std::to_string(messages), "-r", std::to_string(rate)};
}

nlohmann::json status_of(const SuiteRun& run, const std::string& id) {
  return common::control_request(common::control_endpoint((run.dir() / "run").string(), id), {{"cmd", "status"}},
                                 2000ms);
}

/// Starts `daemon` with its own NOTIFY_SOCKET (and, when `wedge` is set, PEAKNET_TEST_WEDGE) and waits
/// for READY=1.
ChildProcess& start_watched(SuiteRun& run, const std::string& daemon, NotifyListener& notify,
                            const std::string& wedge = "") {
  notify.set_env(kWatchdog);
  if (!wedge.empty()) ::setenv("PEAKNET_TEST_WEDGE", wedge.c_str(), 1);
  // Stall after 1 s; Q2 waits in 200 ms slices (a beat each), well inside it.
  auto& child = run.start(daemon, {"control.stall_timeout_s=1", "q2.block_timeout_ms=200"});
  NotifyListener::clear_env();
  ::unsetenv("PEAKNET_TEST_WEDGE");
  EXPECT_TRUE(eventually([&] { return notify.received("READY=1"); }, 60s)) << run.log_text(daemon);
  return child;
}

TEST(Watchdog, IngestdWaitingForInputKeepsPetting) {
  SuiteRun run("wd_idle");
  NotifyListener notify((run.dir() / "notify-ingestd").string());
  start_watched(run, "ingestd", notify);
  // Three stall timeouts with nothing to receive: waiting for input is never a stall.
  const auto from = Clock::now();
  std::this_thread::sleep_for(3s);
  const auto to = Clock::now();
  EXPECT_LT(notify.longest_gap(from, to), kWatchdog) << notify.pets(from, to).size() << " pets";
  EXPECT_EQ(status_of(run, "ingestd").value("state", ""), "ready");
  EXPECT_EQ(run.counter("ingestd", "stalls"), 0u) << run.log_text("ingestd");
}

TEST(Watchdog, BackpressureFromFullRingsKeepsIngestdAndInferdPetting) {
  SuiteOptions options;
  options.q1_slots = 4;
  options.q2_slots = 4;
  SuiteRun run("wd_backpressure", options);
  NotifyListener inferd_notify((run.dir() / "notify-inferd").string());
  NotifyListener ingestd_notify((run.dir() / "notify-ingestd").string());
  start_watched(run, "inferd", inferd_notify);
  start_watched(run, "ingestd", ingestd_notify);
  run.push(batch(12, 100));  // 48 events into 4 + 4 slots, and no writerd: both rings fill and stay full
  ASSERT_TRUE(eventually(
      [&] {
        const auto q1 = run.ring("q1"), q2 = run.ring("q2");
        return q1 && q2 && q2->occupancy == 4 && q1->occupancy == 4;
      },
      60s))
      << run.log_text("");
  std::this_thread::sleep_for(500ms);  // inferd in q2 acquire, ingestd's decoder in q1 acquire
  const auto from = Clock::now();
  std::this_thread::sleep_for(3500ms);  // more than three stall timeouts blocked on full rings
  const auto to = Clock::now();
  EXPECT_LT(inferd_notify.longest_gap(from, to), kWatchdog) << "inferd stopped petting while Q2 was full";
  EXPECT_LT(ingestd_notify.longest_gap(from, to), kWatchdog) << "ingestd stopped petting while Q1 was full";
  EXPECT_EQ(status_of(run, "inferd-cpu0").value("state", ""), "ready");
  EXPECT_EQ(status_of(run, "ingestd").value("state", ""), "ready");
  EXPECT_EQ(run.counter("inferd-cpu0", "stalls"), 0u) << run.log_text("inferd");
  EXPECT_EQ(run.counter("ingestd", "stalls"), 0u) << run.log_text("ingestd");
  EXPECT_GT(run.counter("inferd-cpu0", "q2_block_waits"), 0u) << "inferd never waited for Q2: the test shows nothing";
}

struct WedgeCase {
  std::string stage;       ///< PEAKNET_TEST_WEDGE value
  std::string daemon;      ///< the wedged daemon's binary
  std::string id;          ///< its control id / counter block suffix
  std::string stage_name;  ///< what the stall report names
};

class WatchdogWedge : public ::testing::TestWithParam<WedgeCase> {};

TEST_P(WatchdogWedge, AWedgedThreadStopsThePetsAndShowsTheStall) {
  const WedgeCase& c = GetParam();
  SuiteRun run("wd_wedge_" + c.stage);
  NotifyListener notify((run.dir() / ("notify-" + c.daemon)).string());
  // Downstream first, as peakctl starts them; only the wedged daemon gets the hook and the socket.
  for (const std::string daemon : {"writerd", "inferd", "ingestd"}) {
    if (daemon == c.daemon) start_watched(run, daemon, notify, c.stage);
    else run.start(daemon);
  }
  const auto ready_at = Clock::now();
  ASSERT_TRUE(eventually([&] { return !notify.pets(ready_at, Clock::now()).empty(); }, 10s))
      << "no pet while healthy: " << run.log_text(c.daemon);
  run.push(batch(1, 10));
  ASSERT_TRUE(eventually([&] { return run.counter(c.id, "stalled") == 1; }, 30s)) << run.log_text("");
  const auto stalled_at = Clock::now();

  const nlohmann::json status = status_of(run, c.id);
  EXPECT_EQ(status.value("state", ""), "stalled") << status.dump();
  const std::string message = status.contains("stall") ? status["stall"].value("message", "") : "";
  EXPECT_NE(message.find(c.stage_name + " stuck for"), std::string::npos) << status.dump();
  EXPECT_NE(message.find("in " + c.stage), std::string::npos) << status.dump();
  EXPECT_EQ(run.counter(c.id, "stalls"), 1u);

  std::this_thread::sleep_for(kWatchdog + 1s);  // longer than systemd waits for a pet
  const auto pets = notify.pets(stalled_at + 300ms, Clock::now());
  EXPECT_TRUE(pets.empty()) << pets.size() << " WATCHDOG=1 after the stall: systemd would not see it";
  EXPECT_TRUE(notify.received("STATUS=" + c.id + " stalled")) << "systemctl status does not show the stall";
  EXPECT_NE(run.log_text(c.daemon).find("stall: " + c.stage_name + " stuck for"), std::string::npos)
      << run.log_text(c.daemon);
}

INSTANTIATE_TEST_SUITE_P(Stages, WatchdogWedge,
                         ::testing::Values(WedgeCase{"decode", "ingestd", "ingestd", "decode thread 0"},
                                           WedgeCase{"compute", "inferd", "inferd-cpu0", "compute thread"},
                                           WedgeCase{"write", "writerd", "writerd", "write thread"}),
                         [](const auto& info) { return info.param.stage; });

}  // namespace
}  // namespace peaknet::watchdog_test

// sd_notify through DaemonRuntime against a fake NOTIFY_SOCKET: READY only once ready, STATUS lines,
// STOPPING on drain, WATCHDOG only from heartbeat().
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "../ctl/test_guards.hpp"  // TempDir, FakeNotifySocket
#include "common/daemon_runtime.hpp"
#include "common/sd_notify.hpp"

using namespace peaknet;

namespace {
bool contains(const std::vector<std::string>& msgs, const std::string& needle) {
  return std::any_of(msgs.begin(), msgs.end(),
                     [&](const std::string& m) { return m.find(needle) != std::string::npos; });
}
config::SuiteConfig cfg_for(const std::string& run_dir) {
  return config::parse_suite_config({{"run", {{"run_dir", run_dir}}}});
}
}  // namespace

TEST(CommonSdNotify, ReadyOnlyAfterWarmupThenStatusAndStopping) {
  test::TempDir dir("sdn");
  test::FakeNotifySocket notify(dir.path() + "/notify");
  common::DaemonRuntime sut("inferd", "0", cfg_for(dir.path() + "/run"), {});
  sut.set_state(common::DaemonState::kWarming);
  auto msgs = notify.drain();
  EXPECT_FALSE(contains(msgs, "READY=1"));
  EXPECT_TRUE(contains(msgs, "STATUS=inferd-0 warming"));

  sut.set_state(common::DaemonState::kReady);
  sut.set_status("312 ev/s, q1 12/64");
  msgs = notify.drain();
  EXPECT_TRUE(contains(msgs, "READY=1"));
  EXPECT_TRUE(contains(msgs, "STATUS=inferd-0 ready: 312 ev/s, q1 12/64"));

  sut.set_state(common::DaemonState::kDraining);
  sut.set_state(common::DaemonState::kReady);  // e.g. after a model swap: READY is not repeated
  msgs = notify.drain();
  EXPECT_TRUE(contains(msgs, "STOPPING=1"));
  EXPECT_FALSE(contains(msgs, "READY=1"));
}

TEST(CommonSdNotify, WatchdogOnlyFromHeartbeatAndRateLimited) {
  test::TempDir dir("sdw");
  test::FakeNotifySocket notify(dir.path() + "/notify");
  ::setenv("WATCHDOG_USEC", "400000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(common::sd_watchdog_period().count(), 400000);
  common::DaemonRuntime sut("writerd", "", cfg_for(dir.path() + "/run"), {});
  sut.set_state(common::DaemonState::kReady);
  usleep(300000);
  EXPECT_FALSE(contains(notify.drain(), "WATCHDOG=1")) << "no progress, no ping";
  for (int i = 0; i < 1000; ++i) sut.heartbeat();
  const auto msgs = notify.drain();
  EXPECT_EQ(std::count(msgs.begin(), msgs.end(), std::string("WATCHDOG=1")), 1);
}

TEST(CommonSdNotify, NoSocketMeansNoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(common::sd_notify_send("READY=1"));
}

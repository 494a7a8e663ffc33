// run_daemon_main() with a fake Daemon: the control plane wired to the daemon (real ipc socket, fake
// NOTIFY_SOCKET), the log-level cascade, the start-up error line and the exit codes, the status throttle.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "../ctl/test_guards.hpp"  // TempDir, FakeNotifySocket
#include "common/config/config_error.hpp"
#include "common/control_client.hpp"
#include "common/daemon_main.hpp"
#include "common/run_dir.hpp"

using namespace peaknet;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

class FakeDaemon : public common::Daemon {
 public:
  std::function<int(const common::RunHooks&)> body;
  std::string instance;
  std::atomic<int> drains{0}, stops{0};
  int lines = 0;

  int run(const common::RunHooks& hooks) override { return body ? body(hooks) : 0; }
  void request_drain() override { drains++; }
  void request_stop() override { stops++; }
  json stats() const override { return {{"events_in", 7}}; }
  std::string status_line() override { return "line " + std::to_string(++lines); }
  common::LiveKeys live_keys() override { return {}; }
  common::ProgressMonitor& progress() override { return monitor_; }
  std::string default_instance() const override { return instance; }

 private:
  common::ProgressMonitor monitor_;
};

struct CommonDaemonMain : ::testing::Test {
  test::TempDir dir{"dmain"};
  std::ostringstream err;
  int created = 0;
  FakeDaemon* daemon = nullptr;  // owned by run_daemon_main while it runs
  std::function<void(FakeDaemon&)> setup;

  common::DaemonMain main() {
    common::DaemonMain m;
    m.name = "fake";
    m.description = "a test daemon";
    m.status_interval = 0ms;  // every tick refreshes the status line
    m.section_log_level = [](const config::SuiteConfig& cfg) { return cfg.ingestd.log_level; };
    m.create = [this](config::SuiteConfig&, const common::DaemonCli&) {
      ++created;
      auto d = std::make_unique<FakeDaemon>();
      daemon = d.get();
      if (setup) setup(*d);
      return d;
    };
    return m;
  }
  /// `fake --run-dir <dir> args...`
  int run(const common::DaemonMain& m, std::vector<std::string> args) {
    args.insert(args.begin(), {"fake", "--run-dir", dir.path()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return common::run_daemon_main(int(argv.size()), argv.data(), m, err);
  }
  json final_stats(const std::string& id) {
    std::ifstream in(dir.path() + "/" + id + ".final.json");
    return json::parse(in, nullptr, false);
  }
};

}  // namespace

TEST(CommonStatusThrottle, LetsOneLineThroughPerInterval) {
  const auto t0 = common::StatusThrottle::Clock::time_point{} + 1h;
  common::StatusThrottle sut(1000ms, t0);
  EXPECT_FALSE(sut.due(t0));
  EXPECT_FALSE(sut.due(t0 + 999ms));
  EXPECT_TRUE(sut.due(t0 + 1000ms));
  EXPECT_FALSE(sut.due(t0 + 1500ms)) << "the interval restarts at the last line";
  EXPECT_TRUE(sut.due(t0 + 2000ms));
  EXPECT_TRUE(sut.due(t0 + 9000ms));
  EXPECT_FALSE(sut.due(t0 + 9999ms));
}

TEST_F(CommonDaemonMain, WiresTheDaemonIntoItsRuntimeAndSystemd) {
  json status, stats, swap;
  setup = [&](FakeDaemon& d) {
    d.instance = "cpu7";
    d.body = [&](const common::RunHooks& hooks) {
      const std::string endpoint = common::control_endpoint(dir.path(), "fake-cpu7");
      hooks.on_state(common::DaemonState::kReady);
      hooks.tick();  // status interval 0: sets the status line
      status = common::control_request(endpoint, {{"cmd", "status"}});
      stats = common::control_request(endpoint, {{"cmd", "stats"}});
      swap = common::control_request(endpoint, {{"cmd", "swap_model"}, {"path", dir.path()}});
      common::control_request(endpoint, {{"cmd", "drain"}});
      common::control_request(endpoint, {{"cmd", "stop"}});
      return 0;
    };
  };
  std::vector<std::string> messages;
  int rc = -1;
  {
    test::FakeNotifySocket notify(dir.path() + "/notify.sock");
    rc = run(main(), {});
    messages = notify.drain();
  }
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(err.str(), "");
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(status["id"], "fake-cpu7") << "no --instance: the daemon's default instance names it";
  EXPECT_EQ(status["state"], "ready") << status.dump();
  EXPECT_EQ(status["status"], "line 1") << status.dump();
  EXPECT_EQ(stats["stats"]["events_in"], 7) << stats.dump();
  EXPECT_EQ(swap["error"]["code"], "not_supported") << swap.dump();
  EXPECT_EQ(daemon->drains.load(), 1);
  EXPECT_EQ(daemon->stops.load(), 1);
  const json final = final_stats("fake-cpu7");
  EXPECT_EQ(final["state"], "stopped") << final.dump();
  EXPECT_EQ(final["stats"]["events_in"], 7) << final.dump();

  std::string all;
  for (const auto& m : messages) all += m + " | ";
  auto first = [&](const std::string& what) {
    for (size_t i = 0; i < messages.size(); ++i)
      if (messages[i].find(what) != std::string::npos) return int(i);
    return -1;
  };
  const int ready = first("READY=1");
  ASSERT_GE(ready, 0) << all;
  EXPECT_NE(messages[size_t(ready)].find("STATUS=fake-cpu7 ready"), std::string::npos) << all;
  EXPECT_GE(first("STATUS=fake-cpu7 ready: line 1"), 0) << all;
  EXPECT_GT(first("STOPPING=1"), ready) << all;
}

TEST_F(CommonDaemonMain, CommandLineInstanceWinsOverTheDaemonsDefault) {
  setup = [](FakeDaemon& d) { d.instance = "cpu7"; };
  EXPECT_EQ(run(main(), {"--instance", "3"}), 0) << err.str();
  EXPECT_EQ(final_stats("fake-3")["state"], "stopped");
}

TEST_F(CommonDaemonMain, RunsExitCodeIsTheProcessesAndNonZeroMeansFailed) {
  setup = [](FakeDaemon& d) { d.body = [](const common::RunHooks&) { return 3; }; };
  EXPECT_EQ(run(main(), {}), 3);
  EXPECT_EQ(final_stats("fake")["state"], "failed");
}

TEST_F(CommonDaemonMain, StartupErrorIsOneLineNamingTheInputAndExitCode1) {
  auto m = main();
  m.create = [](config::SuiteConfig&, const common::DaemonCli&) -> std::unique_ptr<common::Daemon> {
    throw config::ConfigError("config.fake.size", "must be >= 1, got 0");
  };
  EXPECT_EQ(run(m, {}), 1);
  const std::string line = err.str();
  EXPECT_EQ(line.rfind("fake: ", 0), 0u) << line;
  EXPECT_NE(line.find("config.fake.size"), std::string::npos) << line;
  EXPECT_NE(line.find("must be >= 1, got 0"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;

  err.str("");
  EXPECT_EQ(run(main(), {"--set", "ingestd.decode_threads=0"}), 1) << "a bad config is a start-up error";
  EXPECT_NE(err.str().find("config.ingestd.decode_threads"), std::string::npos) << err.str();
  EXPECT_EQ(created, 0);
}

TEST_F(CommonDaemonMain, BadCommandLineNeverStartsTheDaemon) {
  EXPECT_NE(run(main(), {"--no-such-flag"}), 0);
  EXPECT_EQ(run(main(), {"--log-level", "loud"}), 1);
  EXPECT_NE(err.str().find("--log-level"), std::string::npos) << err.str();
  EXPECT_EQ(created, 0);
}

TEST_F(CommonDaemonMain, BeforeStartMayRunInsteadOfTheDaemon) {
  auto m = main();
  m.before_start = [](common::DaemonCli& cli) -> std::optional<int> {
    if (cli.instance == "inspect") return 42;
    return std::nullopt;
  };
  EXPECT_EQ(run(m, {"--instance", "inspect"}), 42);
  EXPECT_EQ(created, 0);
  EXPECT_EQ(run(m, {"--instance", "serve"}), 0) << err.str();
  EXPECT_EQ(created, 1);
}

TEST_F(CommonDaemonMain, LogLevelCascadeCommandLineThenSectionThenRun) {
  spdlog::level::level_enum seen = spdlog::level::off;
  setup = [&](FakeDaemon& d) {
    d.body = [&](const common::RunHooks&) {
      seen = spdlog::default_logger()->level();
      return 0;
    };
  };
  ASSERT_EQ(run(main(), {"--set", "run.log_level=warn"}), 0) << err.str();
  EXPECT_EQ(seen, spdlog::level::warn) << "no section level: run.log_level";
  ASSERT_EQ(run(main(), {"--set", "run.log_level=warn", "--set", "ingestd.log_level=debug"}), 0) << err.str();
  EXPECT_EQ(seen, spdlog::level::debug) << "the daemon's section beats run.log_level";
  ASSERT_EQ(run(main(), {"--set", "run.log_level=warn", "--set", "ingestd.log_level=debug", "--log-level", "error"}), 0)
      << err.str();
  EXPECT_EQ(seen, spdlog::level::err) << "--log-level beats both";
  ASSERT_EQ(run(main(), {"--set", "writerd.log_level=trace"}), 0) << err.str();
  EXPECT_EQ(seen, spdlog::level::info) << "another daemon's section does not apply";
}

// peakctl as operators use it, against real processes: fake daemons built from DaemonRuntime (see
// fake_daemon.cpp) found through control.bin_dir. run (ledger), start/status/stats/reconfigure/model
// swap/stop, malformed requests to a live daemon, and `peakctl stats` under a pseudo-terminal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../../unit/ctl/test_guards.hpp"
#include "common/control_client.hpp"

using nlohmann::json;

namespace {
struct Result {
  int rc = -1;
  std::string out;
};

Result sh(const std::string& cmd) {
  Result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class Suite : public ::testing::Test {
 protected:
  peaknet::test::TempDir dir{"ctlit"};
  std::string cfg_path, run_dir, peakctl = PEAKCTL_PATH;

  void SetUp() override {
    const std::string bin = dir.path() + "/bin";
    ::mkdir(bin.c_str(), 0700);
    for (const char* role : {"ingestd", "inferd", "writerd"}) {
      const std::string path = bin + "/" + role;
      std::ofstream(path) << "#!/bin/sh\nexec " << FAKE_DAEMON_PATH << " --role " << role << " \"$@\"\n";
      ::chmod(path.c_str(), 0700);
    }
    run_dir = dir.path() + "/run";
    cfg_path = dir.path() + "/suite.json";
    const json cfg = {
        {"run", {{"name", "pkit" + std::to_string(::getpid())}, {"run_dir", run_dir}}},
        {"ingestd", {{"source", "synthetic"}, {"synthetic", {{"rate_hz", 300.0}}}}},
        {"control", {{"bin_dir", bin}, {"metrics_port", 0}, {"stop_timeout_s", 20}, {"ready_timeout_s", 60}}}};
    std::ofstream(cfg_path) << cfg.dump(2);
  }
  void TearDown() override { sh(peakctl + " stop --now --config " + cfg_path); }
  std::string ctl(const std::string& args) { return peakctl + " " + args + " --config " + cfg_path; }
};
}  // namespace

TEST_F(Suite, RunEndsWithTheStreamAndTheLedgerBalances) {
  const Result r = sh(ctl("run --cpu --events 150 --set ingestd.synthetic.rate_hz=0"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("received 150 = written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in flight 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ledger balances"), std::string::npos) << r.out;
}

TEST_F(Suite, RunFailsWhenADaemonCannotStart) {
  std::ofstream(dir.path() + "/bin/writerd") << "#!/bin/sh\necho broken >&2\nexit 3\n";
  const Result r = sh(ctl("run --cpu --events 50"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("writerd exited 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LEDGER DOES NOT BALANCE"), std::string::npos) << r.out;
}

// ready_timeout_s is 60: the supervisor gives up after its restarts within seconds, and start must
// say so then, naming the daemon and its last log line.
TEST_F(Suite, StartFailsAtOnceWhenTheSupervisorGivesUpOnADaemon) {
  std::ofstream(dir.path() + "/bin/writerd") << "#!/bin/sh\necho starting >&2\n"
                                                "echo 'writerd: output dir /nonexistent is not writable' >&2\nexit 3\n";
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = sh(ctl("start --no-systemd --cpu"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_LT(seconds, 30.0) << "start waited for ready_timeout_s; " << r.out;
  EXPECT_NE(r.out.find("writerd exited 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last log line: writerd: output dir /nonexistent is not writable"), std::string::npos) << r.out;
}

TEST_F(Suite, StartStatusStatsReconfigureSwapStop) {
  Result r = sh(ctl("start --no-systemd --cpu"));
  ASSERT_EQ(r.rc, 0) << r.out;

  r = sh(ctl("status --json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const json status = json::parse(r.out);
  ASSERT_EQ(status["daemons"].size(), 3u);
  for (const auto& d : status["daemons"]) EXPECT_EQ(d["state"], "ready") << d.dump();

  r = sh(ctl("stats --once --json --interval 0.5"));
  ASSERT_EQ(r.rc, 0) << r.out;
  json stats = json::parse(r.out);
  EXPECT_GT(stats["ledger"]["received"].get<double>(), 0);
  EXPECT_GT(stats["daemons"][0]["rates_per_s"]["events_received"].get<double>(), 0) << r.out;

  // Every live key, while the stream flows.
  r =
      sh(ctl("reconfigure inferd.batch_size=4 inferd.max_wait_ms=2 peaks.min_num_peak=5 writerd.events_per_file=10 "
             "writerd.output_dir=" +
             dir.path() + "/out q1.policy=drop_newest writerd.on_error=block log_level=debug"));
  EXPECT_EQ(r.rc, 0) << r.out;
  r = sh(ctl("stats --once --json --interval 0.2"));
  stats = json::parse(r.out);
  EXPECT_EQ(stats["daemons"][1]["counters"]["batch_size"], 4) << r.out;
  EXPECT_EQ(stats["daemons"][2]["counters"]["min_num_peak"], 5) << r.out;

  r = sh(ctl("reconfigure inferd.device=cuda"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("restart needed"), std::string::npos) << r.out;
  r = sh(ctl("reconfigure inferd.batch_size=0"));
  EXPECT_EQ(r.rc, 1) << r.out;

  const std::string weights = dir.path() + "/new.safetensors";
  std::ofstream(weights) << "w";
  r = sh(ctl("reconfigure --model " + weights));
  EXPECT_EQ(r.rc, 0) << r.out;

  // Malformed requests to a live daemon: JSON errors, daemon still fine.
  const std::string ep = "ipc://" + run_dir + "/writerd.sock";
  EXPECT_NE(peaknet::common::control_request_raw(ep, "}{").find("malformed_json"), std::string::npos);
  EXPECT_NE(peaknet::common::control_request_raw(ep, std::string(100000, 'x')).find("malformed_json"),
            std::string::npos);

  // A pseudo-terminal: the live table redraws with numbers.
  r = sh("script -qec '" + ctl("stats --interval 0.3 --iterations 2") + "' /dev/null");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\033[H\033[2J"), std::string::npos);
  EXPECT_NE(r.out.find("EVENTS/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ledger: received"), std::string::npos) << r.out;

  r = sh(ctl("stop --json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const json stopped = json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(stopped["ledger"]["in_flight"], 0) << r.out;
  EXPECT_GT(stopped["ledger"]["received"].get<double>(), 0);
  EXPECT_EQ(sh(ctl("status")).rc, 3);
}

TEST_F(Suite, DoctorAndCleanRemoveStaleSockets) {
  ::mkdir(run_dir.c_str(), 0700);
  std::ofstream(run_dir + "/inferd-9.sock") << "";
  std::ofstream(run_dir + "/inferd-9.pid") << "999999\n";
  Result r = sh(ctl("doctor"));
  EXPECT_NE(r.out.find("stale socket/pid files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/shm"), std::string::npos) << r.out;
  r = sh(ctl("clean"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_FALSE(std::ifstream(run_dir + "/inferd-9.sock").good());
}

TEST_F(Suite, MetricsEndpointServesTheRunningSuite) {
  if (sh("command -v curl").rc != 0) GTEST_SKIP() << "no curl";
  ASSERT_EQ(sh(ctl("start --no-systemd --cpu")).rc, 0);
  const std::string port = std::to_string(20000 + ::getpid() % 20000);
  const int exporter = std::atoi(
      sh("timeout 30 " + ctl("metrics --listen 127.0.0.1:" + port) + " >/dev/null 2>&1 & echo $!").out.c_str());
  ASSERT_GT(exporter, 0);
  Result metrics, ready;
  for (int i = 0; i < 50; ++i) {
    metrics = sh("curl -sf http://127.0.0.1:" + port + "/metrics");
    if (metrics.rc == 0 && metrics.out.find("peaknet_events_received_total") != std::string::npos) break;
    ::usleep(200000);
  }
  ready = sh("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + port + "/health/ready");
  EXPECT_NE(metrics.out.find("peaknet_events_received_total{daemon=\"ingestd\",instance=\"\"}"), std::string::npos)
      << metrics.out;
  EXPECT_NE(metrics.out.find("peaknet_daemon_ready{daemon=\"inferd\",instance=\"cpu0\"} 1"), std::string::npos);
  EXPECT_EQ(ready.out, "200");
  ::kill(exporter, SIGTERM);  // the timeout wrapper passes it on to peakctl metrics
}

#include "supervisor.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "child_set.hpp"
#include "common/run_dir.hpp"
#include "lifecycle.hpp"
#include "metrics.hpp"
#include "stats_snapshot.hpp"

namespace peaknet::ctl {

namespace {
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int signo) { g_stop_signal = signo; }
constexpr int kMaxRestarts = 3;
}  // namespace

std::string restart_marker(const std::string& run_dir, const std::string& id) {
  return run_dir + "/" + id + ".restart";
}
std::string stopping_marker(const std::string& run_dir) { return run_dir + "/stopping"; }
std::string supervisor_pid_file(const std::string& run_dir) { return run_dir + "/supervisor.pid"; }
std::string gave_up_marker(const std::string& run_dir, const std::string& id) { return run_dir + "/" + id + ".failed"; }

std::string gave_up_report(const std::string& run_dir, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    std::ifstream marker(gave_up_marker(run_dir, id));
    std::string exit;
    if (!marker || !std::getline(marker, exit)) continue;
    std::ifstream log(run_dir + "/" + id + ".log");
    std::string last;
    for (std::string line; std::getline(log, line);) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    }
    return id + " " + exit + "; last log line: " + (last.empty() ? "(empty log)" : last) + " (" + run_dir + "/" + id +
           ".log)";
  }
  return "";
}

int run_supervisor(const config::SuiteConfig& cfg, const std::string& run_dir, const std::vector<DaemonLaunch>& plan) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  common::write_file_0600(supervisor_pid_file(run_dir), std::to_string(::getpid()) + "\n");
  std::remove(stopping_marker(run_dir).c_str());
  for (const auto& launch : plan) std::remove(gave_up_marker(run_dir, launch.id).c_str());

  ChildSet children(run_dir);
  std::vector<RunningDaemon> daemons;
  for (const auto& launch : plan) {
    try {
      children.spawn(launch);
    } catch (const std::exception& e) {
      spdlog::error("supervisor: {}", e.what());
      return 1;  // ChildSet kills what already started
    }
    daemons.push_back({launch.id, launch.daemon, launch.instance, common::control_endpoint(run_dir, launch.id)});
    spdlog::info("supervisor: started {} (pid {})", launch.id, children.pid(launch.id));
  }
  std::unique_ptr<MetricsServer> metrics;
  if (cfg.control.metrics_port > 0) {
    try {
      metrics = std::make_unique<MetricsServer>(cfg.control.metrics_address, int(cfg.control.metrics_port),
                                                [&cfg, run_dir] { return collect_snapshot(cfg, run_dir); });
      spdlog::info("supervisor: metrics on http://{}:{}/metrics", cfg.control.metrics_address, metrics->port());
    } catch (const std::exception& e) {
      spdlog::warn("supervisor: {} (continuing without metrics)", e.what());
    }
  }

  std::map<std::string, int> restarts;
  int exit_code = 0;
  auto handle_exit = [&](const ChildExit& e) {
    const bool stopping = std::filesystem::exists(stopping_marker(run_dir)) || g_stop_signal != 0;
    const bool marked = std::filesystem::remove(restart_marker(run_dir, e.id));
    spdlog::log(e.ok ? spdlog::level::info : spdlog::level::warn, "supervisor: {} (pid {}) {}", e.id, e.pid,
                e.description);
    const DaemonLaunch* launch = children.launch_of(e.id);
    const bool retry = !stopping && launch && (marked || (!e.ok && restarts[e.id] < kMaxRestarts));
    if (!retry) {
      if (!e.ok) exit_code = 1;
      if (!e.ok && !stopping) {
        spdlog::error("supervisor: giving up on {} after {} restarts", e.id, restarts[e.id]);
        common::write_file_0600(
            gave_up_marker(run_dir, e.id),
            e.description + " (after " + std::to_string(restarts[e.id]) + " restarts the supervisor gave up)\n");
      }
      return;
    }
    if (!marked) ++restarts[e.id];
    try {
      children.spawn(*launch);
      spdlog::info("supervisor: restarted {} (pid {})", e.id, children.pid(e.id));
    } catch (const std::exception& ex) {
      spdlog::error("supervisor: restart of {} failed: {}", e.id, ex.what());
      exit_code = 1;
    }
  };
  while (children.alive_count() > 0) {
    for (const auto& e : children.reap()) handle_exit(e);
    if (g_stop_signal != 0) {
      spdlog::info("supervisor: signal {}: stopping the suite in pipeline order", g_stop_signal.load());
      std::ostringstream log;
      StopOptions options;
      options.stage_timeout = std::chrono::seconds(cfg.control.stop_timeout_s);
      stop_pipeline(run_dir, daemons, options, &children, log, handle_exit);
      spdlog::info("supervisor: {}", log.str());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  metrics.reset();
  std::remove(supervisor_pid_file(run_dir).c_str());
  spdlog::info("supervisor: every daemon has exited");
  return exit_code;
}

}  // namespace peaknet::ctl

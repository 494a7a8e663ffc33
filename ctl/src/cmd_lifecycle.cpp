// peakctl start / stop / restart / status.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common/control_client.hpp"
#include "common/logging.hpp"
#include "common/run_dir.hpp"
#include "lifecycle.hpp"
#include "stats_view.hpp"
#include "suite_plan.hpp"
#include "supervisor.hpp"
#include "systemd_cmds.hpp"

namespace peaknet::ctl {

namespace fs = std::filesystem;

namespace {
// Daemons with a live process (a socket left by a crash does not count).
std::vector<RunningDaemon> live_daemons(const std::string& run_dir) {
  std::vector<RunningDaemon> out;
  for (auto& d : discover_daemons(run_dir)) {
    if (process_alive(read_pid_file(run_dir, d.id))) out.push_back(std::move(d));
  }
  return out;
}
}  // namespace

int cmd_start(const CtlOptions& o, const StartArgs& a) {
  const auto cfg = load_ctl_config(o);
  const bool systemd = use_systemd(cfg, a.no_systemd);
  if (systemd) {
    if (const std::string why = systemd_config_refusal(o); !why.empty()) {
      std::cerr << "peakctl start: " << why << "\n";
      return kUsage;
    }
  }
  // systemd makes its units' run dir (RuntimeDirectory=, owned by the daemons' user); else it is ours.
  const std::string run_dir = systemd && cfg.run.run_dir.empty()
                                  ? std::string(common::kSystemdRunBase) + "/" + cfg.run.name
                                  : common::resolve_run_dir(cfg.run);
  if (!systemd) common::ensure_run_dir(run_dir, cfg.run.group_access);
  if (const auto running = live_daemons(run_dir); !running.empty()) {
    std::cerr << "peakctl start: " << running.front().id << " is already running in " << run_dir
              << " (peakctl status; peakctl stop first)\n";
    return kFailed;
  }
  if (cfg.inferd.model.random_init) {
    std::cerr << "WARNING: inferd.model.random_init is set: the DEMO model with random weights; its peaks are "
                 "meaningless. Set inferd.model.weights (and random_init false) in "
              << (cfg.source.empty() ? "the config" : cfg.source) << " for real data.\n";
  }
  remove_finished_rings(cfg, std::cerr);
  PlanOptions plan_options{o.config_path.empty() ? "" : fs::absolute(o.config_path).string(), o.overrides, o.run_dir,
                           a.cpu};
  const auto plan = plan_suite(cfg, plan_options);
  std::vector<std::string> ids;
  for (const auto& l : plan) ids.push_back(l.id);

  if (systemd) {
    return start_via_systemd(cfg, run_dir, ids);
  } else if (a.foreground) {
    logging::init("peakctl", cfg.control.log_level.value_or(cfg.run.log_level));
    return run_supervisor(cfg, run_dir, plan);
  } else {
    for (const auto& id : ids) std::remove(gave_up_marker(run_dir, id).c_str());  // a previous run's
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::cerr << "peakctl start: fork failed\n";
      return kFailed;
    }
    if (pid == 0) {
      ::setsid();
      const std::string log = run_dir + "/supervisor.log";
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
      }
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      logging::init("supervisor", cfg.control.log_level.value_or(cfg.run.log_level));
      ::_exit(run_supervisor(cfg, run_dir, plan));
    }
    std::string error;
    const bool ready =
        wait_ready(run_dir, ids, std::chrono::seconds(cfg.control.ready_timeout_s), nullptr, error,
                   [pid, &run_dir, &ids]() -> std::string {
                     // A daemon the supervisor gave up on will never be ready.
                     std::string gave_up = gave_up_report(run_dir, ids);
                     if (!gave_up.empty()) return gave_up;
                     int status = 0;
                     if (::waitpid(pid, &status, WNOHANG) == pid) {
                       gave_up = gave_up_report(run_dir, ids);
                       return gave_up.empty() ? "the supervisor exited (see " + run_dir + "/supervisor.log)" : gave_up;
                     }
                     return "";
                   });
    if (!ready) {
      std::cerr << "peakctl start: " << error << "\n";
      ::kill(pid, SIGTERM);  // the supervisor stops whatever did start
      return kFailed;
    }
    std::cout << "started " << ids.size() << " daemons (supervisor pid " << pid << ", run dir " << run_dir
              << ", logs there)\n";
    if (cfg.control.metrics_port > 0) {
      std::cout << "metrics: http://" << cfg.control.metrics_address << ":" << cfg.control.metrics_port << "/metrics\n";
    }
    return kOk;
  }
}

int cmd_stop(const CtlOptions& o, bool now) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  const auto daemons = live_daemons(run_dir);
  if (daemons.empty()) {
    std::cerr << "peakctl stop: nothing running in " << run_dir << "\n";
    return kNotRunning;
  }
  if (runs_in_unit(read_pid_file(run_dir, daemons.front().id))) {
    return stop_via_systemd(o, cfg, run_dir, daemons, now);
  }
  common::write_file_0600(stopping_marker(run_dir), "");
  StopOptions options;
  options.now = now;
  options.stage_timeout = std::chrono::seconds(cfg.control.stop_timeout_s);
  const bool clean = stop_pipeline(run_dir, daemons, options, nullptr, std::cerr);
  // The supervisor (if any) exits once its children are gone.
  const int sup = read_pid_file(run_dir, "supervisor");
  for (int i = 0; i < 100 && process_alive(sup); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::remove(stopping_marker(run_dir).c_str());
  const auto final = final_snapshot(run_dir);
  if (clean && final.ledger.in_flight == 0) {
    std::ostringstream removed;  // a clean end leaves nothing behind in /dev/shm
    if (const int n = remove_stale_segments(cfg, /*dry_run=*/false, removed); n > 0) {
      std::cerr << "peakctl stop: removed the run's " << n << " shm segments\n";
    }
  }
  // After a drain nothing may be in flight; --now leaves queued events in the rings on purpose.
  const bool balanced = now || final.ledger.in_flight == 0;
  if (o.json) {
    std::cout << nlohmann::json{{"stopped", clean},
                                {"balanced", balanced},
                                {"ledger", stats_to_json(final, nullptr)["ledger"]}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << (clean ? "stopped" : "stopped (some daemons had to be forced)") << "; " << ledger_line(final.ledger)
              << "\n";
    if (!balanced) {
      std::cout << fmt::format("the ledger does not balance: {:.0f} events unaccounted for\n", final.ledger.in_flight);
    }
  }
  return clean && balanced ? kOk : kFailed;
}

int cmd_restart(const CtlOptions& o, const std::string& id) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  const int old_pid = read_pid_file(run_dir, id);
  if (!process_alive(old_pid)) {
    std::cerr << "peakctl restart: " << id << " is not running in " << run_dir << "\n";
    return kNotRunning;
  }
  if (runs_in_unit(old_pid)) return restart_via_systemd(cfg, run_dir, id);
  if (!process_alive(read_pid_file(run_dir, "supervisor"))) {
    std::cerr << "peakctl restart: " << id << " was not started by peakctl start (no supervisor)\n";
    return kFailed;
  }
  common::write_file_0600(restart_marker(run_dir, id), "");
  // "stop", not "drain": a drained producer would finish its ring and end the stream downstream.
  // Queued events stay in the rings and are taken up by the restarted daemon.
  common::control_request(common::control_endpoint(run_dir, id), {{"cmd", "stop"}});
  for (int i = 0; i < 600 && read_pid_file(run_dir, id) == old_pid; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string error;
  if (!wait_ready(run_dir, {id}, std::chrono::seconds(cfg.control.ready_timeout_s), nullptr, error)) {
    std::cerr << "peakctl restart: " << error << "\n";
    return kFailed;
  }
  std::cout << "restarted " << id << " (pid " << read_pid_file(run_dir, id) << ")\n";
  return kOk;
}

int cmd_status(const CtlOptions& o) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  const auto daemons = discover_daemons(run_dir);
  nlohmann::json all = nlohmann::json::array();
  bool healthy = !daemons.empty();
  for (const auto& d : daemons) {
    const int pid = read_pid_file(run_dir, d.id);
    // A dead process cannot answer: do not wait for the timeout (seconds per daemon of a dead node).
    auto reply = process_alive(pid)
                     ? common::control_request(d.endpoint, {{"cmd", "status"}}, std::chrono::milliseconds(1500))
                     : nlohmann::json{{"ok", false}};
    if (!reply.value("ok", false)) {
      healthy = false;
      reply = {{"id", d.id},
               {"state",
                process_alive(pid) ? "unresponsive" : "dead (stale socket; peakctl start resumes the queued events)"},
               {"pid", pid}};
    } else if (reply.value("state", std::string()) == "failed") {
      healthy = false;
    }
    all.push_back(reply);
  }
  if (o.json) {
    std::cout << nlohmann::json{{"run_dir", run_dir}, {"daemons", all}}.dump(2) << "\n";
  } else if (daemons.empty()) {
    std::cout << "nothing running in " << run_dir << "\n";
  } else {
    std::cout << fmt::format("{:<12} {:<12} {:>8} {:>10} {:<8} {:<13} {}\n", "DAEMON", "STATE", "PID", "UPTIME_S",
                             "VERSION", "CONFIG", "STATUS");
    for (const auto& r : all) {
      std::cout << fmt::format("{:<12} {:<12} {:>8} {:>10.1f} {:<8} {:<13} {}\n", r.value("id", std::string()),
                               r.value("state", std::string()), r.value("pid", 0), r.value("uptime_s", 0.0),
                               r.value("version", std::string("-")), r.value("config_digest", std::string("-")),
                               r.value("status", std::string()));
    }
    const int sup = read_pid_file(run_dir, "supervisor");
    if (process_alive(sup)) std::cout << "supervisor pid " << sup << "; run dir " << run_dir << "\n";
  }
  if (daemons.empty()) return kNotRunning;
  return healthy ? kOk : kFailed;
}

}  // namespace peaknet::ctl

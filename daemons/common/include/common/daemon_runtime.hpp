#pragma once
// DaemonRuntime: the control plane every daemon process carries (one instance per process).
//   - run directory (0700) with "<daemon>[-<instance>].pid" and the control socket
//     ipc://<run_dir>/<daemon>[-<instance>].sock (ZMQ REP, served on the runtime's own thread);
//   - SIGINT/SIGTERM -> hooks.request_drain (first), hooks.request_stop (second); SIGHUP ignored;
//   - sd_notify: READY=1 when the state first becomes kReady (after warm-up), STOPPING=1 on drain,
//     STATUS=<line>, and WATCHDOG=1. With watch(monitor) (every daemon of the suite) a watchdog thread
//     pets only while every worker stage of the ProgressMonitor makes progress or legitimately waits,
//     and turns kReady into kStalled (and back) when the monitor reports a stall. Without a monitor,
//     heartbeat() pets (call it from the work loop, never from a side thread);
//   - on destruction writes "<daemon>[-<instance>].final.json" (last stats()) for `peakctl run`.
// Construct it AFTER the objects its hooks capture (it is destroyed, and its thread joined, first).
// Hooks run on the control thread: they must be thread-safe with respect to the daemon's own threads.
//
// Control requests are one JSON object per ZMQ message (see docs/ctl.md for the full table):
//   {"cmd":"status"} {"cmd":"stats"} {"cmd":"config_get","key":"a.b"} {"cmd":"config_set","key":..,"value":..}
//   {"cmd":"drain"} {"cmd":"stop"} {"cmd":"swap_model","path":..}
// Replies: {"ok":true,...} or {"ok":false,"error":{"code":"snake_case","message":"..."}}.
//
// Counter naming convention for stats() and the shm CounterBlock (peakctl computes the ledger from it):
//   ingestd: "events_received", "bytes_received", "events_enqueued" (into Q1)
//   inferd:  "events_in", "events_out" (into Q2), "batches", "gpu_busy_pct"
//   writerd: "events_in", "events_written" (hits in files), "events_filtered" (not a hit), "files_closed"
//   every daemon: "dropped_<reason>" for each drop reason (summed into the ledger's dropped column).
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"
#include "common/daemon_state.hpp"
#include "common/live_keys.hpp"
#include "common/progress_monitor.hpp"

namespace CLI {
class App;
}

namespace peaknet::common {

/// What a daemon's library provides to the control plane. Every member may be empty.
struct DaemonHooks {
  /// Live numbers (the same ones published in shm), as a JSON object.
  std::function<nlohmann::json()> stats;
  /// The daemon's live keys (common/live_keys.hpp): the runtime lists them, refuses every other key and
  /// validates the whole config with the new value before it calls an entry.
  LiveKeys live_keys;
  /// Graceful: stop taking input, finish what is in flight, then exit.
  std::function<void()> request_drain;
  /// Immediate: exit as soon as possible.
  std::function<void()> request_stop;
  /// inferd only: load new weights and swap at a batch boundary; false + error when refused.
  std::function<bool(const std::string& path, std::string& error)> swap_model;
};

class ControlServer;

class DaemonRuntime {
 public:
  /// Creates the run dir, pid file and control socket, installs signal handlers, starts the control
  /// thread. Throws std::runtime_error naming the path when the run dir or socket cannot be made.
  DaemonRuntime(std::string daemon, std::string instance, const config::SuiteConfig& cfg, DaemonHooks hooks);
  ~DaemonRuntime();
  DaemonRuntime(const DaemonRuntime&) = delete;
  DaemonRuntime& operator=(const DaemonRuntime&) = delete;

  void set_state(DaemonState state);
  DaemonState state() const noexcept { return state_.load(); }
  /// One line for `systemctl status` / `peakctl status` ("312 ev/s, q1 12/64, drops 0").
  void set_status(const std::string& line);
  /// The work loop made progress (or found its input idle): pets the systemd watchdog (rate-limited).
  /// Does nothing once watch() was called: the monitor decides then.
  void heartbeat();
  /// Hands the watchdog and the stall state to `monitor` (it must outlive this runtime): a thread
  /// checks it ~4x a second while ready/stalled/draining, pets only when no stage is stalled, and
  /// switches kReady <-> kStalled. `status` then carries "stall" (the report's line) while stalled.
  void watch(ProgressMonitor& monitor);
  /// Set by "drain" or the first SIGINT/SIGTERM (after hooks.request_drain was called).
  bool drain_requested() const noexcept { return drain_requested_.load(); }
  /// Set by "stop" or the second signal (after hooks.request_stop was called).
  bool stop_requested() const noexcept { return stop_requested_.load(); }

  const std::string& daemon() const noexcept { return daemon_; }
  const std::string& instance() const noexcept { return instance_; }
  /// "<daemon>" or "<daemon>-<instance>": names the socket, pid and stats block.
  const std::string& id() const noexcept { return id_; }
  const std::string& run_dir() const noexcept { return run_dir_; }
  /// Keys `config_set` accepts: "log_level", "<daemon>.log_level", then the daemon's table.
  std::vector<std::string> live_keys() const;
  std::string endpoint() const;
  /// Writes "<id>.final.json" now (also done by the destructor unless already written).
  void write_final_stats();

 private:
  friend class ControlServer;
  nlohmann::json handle(const nlohmann::json& request);  // called on the control thread
  void on_signal(int signo);
  void notify_state(DaemonState old_state, DaemonState state);
  void pet_watchdog();
  void watchdog_loop();

  std::string daemon_, instance_, id_, run_dir_;
  config::SuiteConfig cfg_;
  DaemonHooks hooks_;
  std::atomic<DaemonState> state_{DaemonState::kStarting};
  std::atomic<bool> drain_requested_{false}, stop_requested_{false}, final_written_{false};
  int64_t started_ns_ = 0;
  struct Shared;  // status line, watchdog timing (mutex-protected)
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<ControlServer> server_;
};

/// The command line every daemon shares:
///   <daemon> --config FILE [--set a.b=v]... [--log-level L] [--instance I] [--run-dir DIR]
struct DaemonCli {
  std::string config_path;             ///< "" = the embedded defaults (every section empty)
  std::vector<std::string> overrides;  ///< --set
  std::string log_level;               ///< "" = from config
  std::string instance;                ///< inferd: GPU index (or "cpu0"); others: usually ""
  std::string run_dir;                 ///< overrides run.run_dir
};

/// Adds the shared options to a daemon's CLI11 app (the daemon may add its own before parsing):
///   CLI::App app{"..."}; DaemonCli cli; add_daemon_options(app, cli); CLI11_PARSE(app, argc, argv);
void add_daemon_options(CLI::App& app, DaemonCli& cli);
/// Loads the config named by `cli` (applying overrides, --run-dir) and returns it. Throws ConfigError.
config::SuiteConfig load_daemon_config(const DaemonCli& cli);

}  // namespace peaknet::common

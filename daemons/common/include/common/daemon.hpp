#pragma once
// Daemon: the one shape of ingestd, inferd and writerd. run_daemon_main() (common/daemon_main.hpp) makes
// one, hands its stats, live keys, drain/stop and progress to the process's DaemonRuntime, and calls
// run() on the main thread. Tests and benchmarks drive the same objects without a runtime.
//
// Vocabulary (the same in DaemonRuntime, the control verbs and every daemon):
//   drain = stop taking input, finish everything taken in, then return from run();
//   stop  = return from run() as soon as the daemon can (each says what it still finishes).
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/daemon_state.hpp"
#include "common/live_keys.hpp"
#include "common/progress_monitor.hpp"

namespace peaknet::common {

/// Callbacks from run(), on its thread. Every member may be empty.
struct RunHooks {
  /// Each state the daemon enters: kWarming (inferd), kReady once it serves, kDraining, kStopped.
  std::function<void(DaemonState)> on_state;
  /// Each turn of the work loop (progress or idle input), at least every ~50 ms while it runs.
  std::function<void()> tick;
};

class Daemon {
 public:
  virtual ~Daemon() = default;

  /// Serves until the input ends (finite source, Q1/Q2 finished), a drain or a stop; reports its states
  /// through `hooks`. Returns the process exit code (0 = ended cleanly).
  virtual int run(const RunHooks& hooks) = 0;
  /// Drain (see above). Any thread, any time, more than once.
  virtual void request_drain() = 0;
  /// Stop (see above). Any thread, any time, more than once.
  virtual void request_stop() = 0;

  /// Live numbers (the ones published in shm), as a JSON object. Any thread.
  virtual nlohmann::json stats() const = 0;
  /// One line for `systemctl status` / `peakctl status`; called on run()'s thread (from a tick).
  virtual std::string status_line() = 0;
  /// The daemon's live keys (common/live_keys.hpp); their entries run on the control thread.
  virtual LiveKeys live_keys() = 0;
  /// Its worker threads as stages, its rings watched: the runtime's watchdog asks it.
  virtual ProgressMonitor& progress() = 0;

  /// The instance it runs as when the command line names none ("" = none; inferd: its device).
  virtual std::string default_instance() const { return {}; }
  /// Whether swap_model() exists (inferd); the control verb answers "not_supported" otherwise.
  virtual bool can_swap_model() const { return false; }
  /// Loads new weights and swaps them in between two batches; false + error when refused.
  virtual bool swap_model(const std::string& weights_path, std::string& error) {
    error = "no model to swap (" + weights_path + ")";
    return false;
  }
};

}  // namespace peaknet::common

#pragma once
// InferdService: one inferd process = one device. Claims batches from Q1 (several inferd processes may
// share one Q1; each claims its own), runs them through the backend (CUDA pipeline or CPU), writes one
// Q2 record per event (ResultHeader + PeakRecords [+ raw frame]) and keeps its counters in a shm
// CounterBlock "<run.name>-stats-inferd-<gpu|cpu index>".
//
// Lifecycle: create() (rings, counters, model, backend) -> run(): warm-up, ready, serve until Q1 is
// finished and drained or a drain is requested; then every claimed event is finished, Q2 gets
// finish_producing() and run() returns 0. request_drain()/request_stop() are async-signal-safe.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"
#include "common/live_keys.hpp"
#include "common/progress_monitor.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {

/// Command-line choices that override the config.
struct InferdOptions {
  int gpu = -1;          ///< --gpu N; -1 = config inferd.gpu
  std::string instance;  ///< --instance: names the counter block (<run>-stats-inferd-<instance>) like the id
};

enum class ServiceState { kStarting, kWarming, kReady, kDraining, kStopped };
const char* to_string(ServiceState state);

/// Callbacks from run() on the serving thread (the control plane's DaemonRuntime plugs in here).
struct RunHooks {
  std::function<void(ServiceState)> on_state;  ///< every transition (kReady after warm-up)
  std::function<void()> heartbeat;             ///< each loop turn (progress or idle input)
};

class InferdServiceImpl;

class InferdService {
 public:
  /// Opens/creates Q1 and Q2, the counter block, loads the model onto the device. Throws
  /// config::ConfigError (bad config) or std::runtime_error naming the file/segment at fault.
  static std::unique_ptr<InferdService> create(const config::SuiteConfig& config, const InferdOptions& options = {});
  ~InferdService();

  /// Warms up, reports kReady, serves. Returns the process exit code (0 = drained cleanly).
  int run(const RunHooks& hooks = {});

  ServiceState state() const;
  /// Counters, configuration in effect and the backend's description.
  nlohmann::json stats() const;
  /// inferd's live keys (for DaemonRuntime): inferd.batch_size (<= the batch the device buffers were
  /// sized for at start), inferd.max_wait_ms.
  common::LiveKeys live_keys();
  /// Loads `weights_path` beside the running model (same config/backend) on the caller's thread; the
  /// serving loop switches to it between two batches (after warm-up), so no event is lost.
  bool swap_model(const std::string& weights_path, std::string& error);
  /// Stop claiming, finish what is claimed, flush Q2, return from run(). Async-signal-safe.
  void request_drain() noexcept;
  /// Same as drain (claimed events are never abandoned: they would only be requeued). Signal-safe.
  void request_stop() noexcept;
  /// "<run.name>-stats-inferd-<gpu|cpu index>".
  const std::string& counter_block_name() const;
  /// The serving thread ("compute thread": claim, compute, write results) as a ProgressMonitor stage,
  /// Q1 and Q2 watched (DaemonRuntime::watch).
  common::ProgressMonitor& progress();

 private:
  explicit InferdService(std::unique_ptr<InferdServiceImpl> impl);
  std::unique_ptr<InferdServiceImpl> impl_;
};

}  // namespace peaknet::inferd

#pragma once
// InferdService: one inferd process = one device. Claims batches from Q1 (several inferd processes may
// share one Q1; each claims its own), runs them through the backend (CUDA pipeline or CPU), writes one
// Q2 record per event (ResultHeader + PeakRecords [+ raw frame]) and keeps its counters in a shm
// CounterBlock "<run.name>-stats-inferd-<gpu|cpu index>".
//
// A common::Daemon (main.cpp runs it through run_daemon_main()). Lifecycle: the constructor (rings,
// counters, model, backend) -> run(): warm-up, ready, serve until Q1 is finished and drained, a drain
// found Q1 empty, or a stop; then every claimed event is finished, Q2 gets finish_producing() and run()
// returns 0. request_drain()/request_stop() are async-signal-safe.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"
#include "common/daemon.hpp"
#include "common/live_keys.hpp"
#include "common/progress_monitor.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {

/// Command-line choices that override the config.
struct InferdOptions {
  int gpu = -1;          ///< --gpu N; -1 = config inferd.gpu
  std::string instance;  ///< --instance: names the counter block (<run>-stats-inferd-<instance>) like the id
};

class InferdServiceImpl;

class InferdService : public common::Daemon {
 public:
  /// Opens/creates Q1 and Q2, the counter block, loads the model onto the device. Throws
  /// config::ConfigError (bad config) or std::runtime_error naming the file/segment at fault.
  explicit InferdService(const config::SuiteConfig& config, const InferdOptions& options = {});
  ~InferdService() override;
  InferdService(const InferdService&) = delete;
  InferdService& operator=(const InferdService&) = delete;

  /// Warms up (kWarming), reports kReady, serves, then kDraining and kStopped. Returns the process exit
  /// code (0 = every claimed event finished and Q2 finished).
  int run(const common::RunHooks& hooks = {}) override;

  common::DaemonState state() const;
  /// Counters, configuration in effect and the backend's description.
  nlohmann::json stats() const override;
  /// "E events/s, B batches/s; N events, M batches[; GPU busy P%]": rates since the previous call.
  std::string status_line() override;
  /// inferd's live keys (for DaemonRuntime): inferd.batch_size (<= the batch the device buffers were
  /// sized for at start), inferd.max_wait_ms.
  common::LiveKeys live_keys() override;
  bool can_swap_model() const override { return true; }
  /// Loads `weights_path` beside the running model (same config/backend) on the caller's thread; the
  /// serving loop switches to it between two batches (after warm-up), so no event is lost.
  bool swap_model(const std::string& weights_path, std::string& error) override;
  /// Stop claiming once Q1 is empty (what is queued there is processed first), finish what is
  /// claimed, finish Q2, return from run(). Async-signal-safe.
  void request_drain() noexcept override;
  /// Stop claiming now (what is queued in Q1 stays there), finish what is claimed (claimed events are
  /// never abandoned: they would only be requeued), finish Q2, return from run(). Async-signal-safe.
  void request_stop() noexcept override;
  /// "<run.name>-stats-inferd-<gpu|cpu index>".
  const std::string& counter_block_name() const;
  /// The counter block's instance: "0", "1", ... (the GPU) or "cpu0" (the CPU backend).
  std::string default_instance() const override;
  /// The serving thread ("compute thread": claim, compute, write results) as a ProgressMonitor stage,
  /// Q1 and Q2 watched (DaemonRuntime::watch).
  common::ProgressMonitor& progress() override;

 private:
  std::unique_ptr<InferdServiceImpl> impl_;
};

}  // namespace peaknet::inferd

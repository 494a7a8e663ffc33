#pragma once
// WriterService: writerd as a library (a common::Daemon: main.cpp runs it through run_daemon_main(),
// tests drive it directly). One work thread (run()) claims Q2 in batches and sorts each
// event: end-of-stream marker (released), malformed (dropped), duplicate event id (released,
// counted), not a hit (released, counted filtered, unless keep_all_events), or into the CxiSink,
// which holds its slot until its file is complete. The control plane (any thread) calls stats(),
// the live_keys() entries, request_drain(), request_stop().
//
// Ends (run() returns) when Q2 is finished (every producer finished and the ring drained), on
// request_drain() once nothing is claimable, or on request_stop() at once; in every case the open
// file is completed first and the run summary written. Exit code: 0, or 1 when the output was
// failing at the end (the events not written stay in Q2).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"
#include "common/daemon.hpp"
#include "common/live_keys.hpp"
#include "common/logging.hpp"
#include "common/progress_monitor.hpp"
#include "shm/ring.hpp"
#include "writerd/cxi_sink.hpp"
#include "writerd/device_mask_reader.hpp"
#include "writerd/event_id_window.hpp"
#include "writerd/geometry.hpp"
#include "writerd/result_feed.hpp"
#include "writerd/work_pool.hpp"
#include "writerd/writer_counters.hpp"

namespace peaknet::writerd {

class WriterService : public common::Daemon {
 public:
  /// Attaches (or creates) Q2 and the counter block, reads the geometry, binds the feed, scans the
  /// output directory (stale *.inprogress removed, completed ids loaded). Throws (ConfigError-like
  /// std::runtime_error, shm::ShmError, H5Error) naming the input that failed.
  explicit WriterService(const config::SuiteConfig& config);
  ~WriterService() override;
  WriterService(const WriterService&) = delete;
  WriterService& operator=(const WriterService&) = delete;

  /// The work loop: reports kReady, then `hooks.tick` after each iteration. Returns the exit code (see
  /// above).
  int run(const common::RunHooks& hooks = {}) override;

  nlohmann::json stats() const override;
  /// "W written, F filtered, H held, state S" (S: running, draining or output_failed).
  std::string status_line() override;
  /// writerd's live keys (for DaemonRuntime): writerd.output_dir, writerd.events_per_file, peaks.min_num_peak,
  /// writerd.on_error. Thread-safe; validated now, applied by the work loop at its next iteration.
  common::LiveKeys live_keys() override;
  /// Write what can be claimed from Q2 now, complete the open file, return from run().
  void request_drain() override;
  /// Complete the open file with what is held and return from run() at the next iteration (Q2 keeps
  /// what was not claimed).
  void request_stop() override;

  const std::string& q2_name() const { return q2_name_; }
  /// The work thread ("write thread") as a ProgressMonitor stage, Q2 watched (DaemonRuntime::watch).
  common::ProgressMonitor& progress() override { return progress_; }

 private:
  struct PendingLive;

  bool step();                    // one iteration; false when the run is over
  void take(shm::ReadSlot slot);  // sort one claimed event
  void apply_pending_live();
  void finish(const char* reason);
  const Geometry* geometry_for(const shm::ResultHeader& header, std::string& why);
  std::unique_ptr<OutputFiles> make_output(const std::string& dir) const;
  void write_summary(const char* reason);
  void log_progress();

  config::SuiteConfig config_;
  common::ProgressMonitor progress_;
  common::Stage& stage_;
  std::string q2_name_;
  shm::Ring ring_;
  WriterCounters counters_;
  std::optional<Geometry> file_geometry_;     // from writerd.geometry
  std::optional<Geometry> stacked_geometry_;  // made from the first event without a .geom
  std::unique_ptr<ResultFeed> feed_;
  EventIdWindow seen_;
  std::unique_ptr<WorkPool> pool_;                  // before sink_: outlives it
  std::unique_ptr<DeviceMaskReader> device_masks_;  // before sink_: outlives it (write_masks)
  std::unique_ptr<CxiSink> sink_;
  std::vector<shm::ReadSlot> batch_;
  int64_t min_num_peak_;
  uint64_t max_held_;
  common::RunHooks hooks_;  // of the current run()
  std::atomic<bool> drain_requested_{false}, stop_requested_{false};
  std::chrono::steady_clock::time_point next_log_{};
  logging::RateLimiter drop_log_{std::chrono::seconds(1)};  // per-event warnings never flood the log
  std::string started_at_;
  int exit_code_ = 0;

  mutable std::mutex mutex_;  // guards pending_ and the snapshot below
  std::unique_ptr<PendingLive> pending_;
  nlohmann::json snapshot_;  // state copied by the work loop for stats()
};

}  // namespace peaknet::writerd

#pragma once
// peakctl subcommands; each returns an ExitCode (ctl_context.hpp). main.cpp only wires CLI11 to these.
#include <ostream>
#include <string>
#include <vector>

#include "ctl_context.hpp"
#include "systemd_units.hpp"

namespace peaknet::ctl {

struct StartArgs {
  bool cpu = false;         ///< one CPU inferd even when GPUs are visible
  bool no_systemd = false;  ///< supervised child processes even when the units are installed
  bool foreground = false;  ///< stay in the foreground as the supervisor (no fork)
};
int cmd_start(const CtlOptions& o, const StartArgs& a);
int cmd_stop(const CtlOptions& o, bool now);
int cmd_restart(const CtlOptions& o, const std::string& id);
int cmd_status(const CtlOptions& o);

struct StatsArgs {
  bool once = false;
  double interval_s = 0;           ///< 0 = control.stats_interval_ms
  int iterations = 0;              ///< 0 = until Ctrl+C (live mode)
  std::vector<std::string> fleet;  ///< HOST:PORT metrics endpoints: sum their ledgers instead
};
int cmd_stats(const CtlOptions& o, const StatsArgs& a);
int cmd_metrics(const CtlOptions& o, const std::string& listen);

struct ReconfigureArgs {
  std::vector<std::string> assignments;  ///< key=value
  std::string model_path;                ///< --model
};
int cmd_reconfigure(const CtlOptions& o, const ReconfigureArgs& a);
/// `config get KEY`: the value every running daemon holds now (live changes included).
int cmd_config_get(const CtlOptions& o, const std::string& key);

struct RunArgs {
  int64_t events = -1;  ///< -1 = as configured
  bool cpu = false;
};
int cmd_run(const CtlOptions& o, const RunArgs& a);

/// `message`: a sample message file to check against the config ("" = none; doctor_message.hpp).
int cmd_doctor(const CtlOptions& o, const std::string& message = "");
/// Refuses (exit 1, nothing of the shm state removed) while a stale ring of run.name holds queued
/// events, saying how many, unless `force`: `peakctl start` resumes them.
int cmd_clean(const CtlOptions& o, bool dry_run, bool force = false);

/// Unlinks the shm segments of `cfg.run.name` that no live process uses (rings and counter blocks of a
/// dead run); returns how many. Lines naming each go to `log`.
int remove_stale_segments(const config::SuiteConfig& cfg, bool dry_run, std::ostream& log);

/// Events queued (READY or CLAIMED) in the stale rings of `cfg.run.name`, per ring name.
std::vector<std::pair<std::string, uint64_t>> queued_in_stale_rings(const config::SuiteConfig& cfg);

/// Unlinks the rings of `cfg.run.name` whose stream ended cleanly (finished, nothing queued) and that
/// no live process uses: a new start must not attach a finished ring (its consumer would exit at
/// once). Rings with queued events are kept so a restart picks them up (at-least-once).
int remove_finished_rings(const config::SuiteConfig& cfg, std::ostream& log);

}  // namespace peaknet::ctl

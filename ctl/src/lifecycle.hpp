#pragma once
// Bringing a suite up and down through the control sockets: wait until every daemon reports ready,
// and the graceful stop in pipeline order (ingestd stops receiving and finishes Q1 -> inferd drains
// Q1 and finishes Q2 -> writerd drains Q2 and closes its files), so no event in flight is lost.
#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "child_set.hpp"
#include "ctl_context.hpp"

namespace peaknet::ctl {

/// Polls "status" on every id until all say "ready". False + `error` on timeout, a "failed" state, or
/// (with `children`) a child that exited. A child that exited with status 0 counts as done.
/// `abort_check` (optional) is polled too: a non-empty result ends the wait with that error.
bool wait_ready(const std::string& run_dir, const std::vector<std::string>& ids, std::chrono::seconds timeout,
                ChildSet* children, std::string& error, const std::function<std::string()>& abort_check = {});

struct StopOptions {
  bool now = false;                         ///< "stop" instead of "drain": in-flight events may stay queued
  std::chrono::seconds stage_timeout{120};  ///< per stage, then "stop", then SIGKILL
};

/// Stops the daemons of `daemons` stage by stage; each stage is asked to drain only after the stage
/// before it has exited. Returns true when every process exited without being killed. Progress lines
/// go to `log`. With `children`, exits are reaped (and reported through `on_exit`).
bool stop_pipeline(const std::string& run_dir, const std::vector<RunningDaemon>& daemons, const StopOptions& options,
                   ChildSet* children, std::ostream& log, const std::function<void(const ChildExit&)>& on_exit = {});

}  // namespace peaknet::ctl

#pragma once
// The supervisor of a non-systemd `peakctl start`: runs the suite's daemons as its children (logs in
// the run dir), restarts one that fails (at most 3 times, like Restart=on-failure) or that
// `peakctl restart` marked, serves the metrics endpoint, and exits when every child has exited.
// SIGTERM/SIGINT make it stop the suite in pipeline order.
#include <string>
#include <vector>

#include "common/config/suite_config.hpp"
#include "suite_plan.hpp"

namespace peaknet::ctl {

/// Marker files in the run dir that steer the supervisor.
std::string restart_marker(const std::string& run_dir, const std::string& id);  ///< "<id>.restart"
std::string stopping_marker(const std::string& run_dir);                        ///< "stopping"
std::string supervisor_pid_file(const std::string& run_dir);                    ///< "supervisor.pid"
/// Written by the supervisor when it gives up on a daemon (failed, restarts used up): its exit.
std::string gave_up_marker(const std::string& run_dir, const std::string& id);  ///< "<id>.failed"

/// For the first of `ids` the supervisor gave up on: "<id> <exit> (...); last log line: <line>";
/// "" when it gave up on none. `peakctl start` fails with it at once instead of waiting for readiness.
std::string gave_up_report(const std::string& run_dir, const std::vector<std::string>& ids);

/// Runs in the calling process until every child has exited; returns the process exit code.
int run_supervisor(const config::SuiteConfig& cfg, const std::string& run_dir, const std::vector<DaemonLaunch>& plan);

}  // namespace peaknet::ctl

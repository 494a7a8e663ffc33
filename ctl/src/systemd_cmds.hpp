#pragma once
// The systemd halves of peakctl start / stop / restart (cmd_systemd.cpp); cmd_lifecycle.cpp decides.
#include <string>
#include <vector>

#include "ctl_context.hpp"

namespace peaknet::ctl {

/// Why --config/--set cannot be honoured in systemd mode ("" = they can: no --set, and --config, if any,
/// is the units' own file).
std::string systemd_config_refusal(const CtlOptions& o);
/// reset-failed + `systemctl start` of the units and peaknet.target (blocks until READY), then the control
/// sockets say ready. On failure: each unit that is not running with its journal tail.
int start_via_systemd(const config::SuiteConfig& cfg, const std::string& run_dir, const std::vector<std::string>& ids);
/// `systemctl stop` of the target and units (their ordering drains in pipeline order); every unit must end
/// inactive. Prints the final ledger; a clean stop removes the run's shm segments.
int stop_via_systemd(const CtlOptions& o, const config::SuiteConfig& cfg, const std::string& run_dir,
                     const std::vector<RunningDaemon>& daemons, bool now);
/// Control "stop" to the daemon, then `systemctl restart` of its unit; waits until it is ready again.
int restart_via_systemd(const config::SuiteConfig& cfg, const std::string& run_dir, const std::string& id);

}  // namespace peaknet::ctl

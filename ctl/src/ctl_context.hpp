#pragma once
// What every peakctl subcommand shares: the options naming the suite (config, overrides, run dir),
// exit codes, and the daemons found running in the run dir.
#include <string>
#include <vector>

#include "common/config/suite_config.hpp"

namespace peaknet::ctl {

/// Exit codes of every subcommand.
enum ExitCode : int {
  kOk = 0,
  kFailed = 1,      ///< the operation ran and failed (a daemon refused, the ledger does not balance)
  kUsage = 2,       ///< bad command line or config
  kNotRunning = 3,  ///< nothing to talk to (no control socket in the run dir)
};

struct CtlOptions {
  std::string config_path;             ///< "" = default_config_path()
  std::vector<std::string> overrides;  ///< --set
  std::string run_dir;                 ///< overrides run.run_dir
  bool json = false;                   ///< machine-readable output
};

/// The config peakctl reads without --config: the units' /etc/peaknet/peaknet.json when installed, else
/// /etc/peaknet/default.json when present, else "" (built-in defaults).
std::string default_config_path();
config::SuiteConfig load_ctl_config(const CtlOptions& options);
/// Where the suite of `cfg` keeps its sockets: run.run_dir if set; the units' run dir (/run/peaknet/<name>)
/// when the units are in use and have daemons there; else this user's own (common::resolve_run_dir).
std::string ctl_run_dir(const config::SuiteConfig& cfg);

/// A daemon with a control socket in the run dir.
struct RunningDaemon {
  std::string id;        ///< "inferd-0"
  std::string daemon;    ///< "inferd"
  std::string instance;  ///< "0"
  std::string endpoint;  ///< "ipc://<run_dir>/inferd-0.sock"
};

/// Pipeline position: ingestd 0, inferd 1, writerd 2, anything else 3.
int pipeline_stage(const std::string& daemon);
/// Every "<id>.sock" in the run dir, in pipeline order (a socket left by a crash is included; callers
/// see it as unreachable).
std::vector<RunningDaemon> discover_daemons(const std::string& run_dir);
/// The pid recorded in "<run_dir>/<id>.pid" (0 when absent).
int read_pid_file(const std::string& run_dir, const std::string& id);
/// True when pid names a live (not zombie) process.
bool process_alive(int pid);

}  // namespace peaknet::ctl

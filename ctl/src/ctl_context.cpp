#include "ctl_context.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "common/daemon_runtime.hpp"
#include "common/run_dir.hpp"
#include "systemd_units.hpp"

namespace peaknet::ctl {

config::SuiteConfig load_ctl_config(const CtlOptions& options) {
  common::DaemonCli cli;
  cli.config_path = options.config_path.empty() ? default_config_path() : options.config_path;
  cli.overrides = options.overrides;
  cli.run_dir = options.run_dir;
  return common::load_daemon_config(cli);
}

std::string default_config_path() {
  // The installed node config (the one the units read) first; default.json for older installs.
  const std::string installed = units_config_path();
  if (std::filesystem::exists(installed)) return installed;
  const std::string fallback = std::filesystem::path(installed).parent_path() / "default.json";
  return std::filesystem::exists(fallback) ? fallback : "";
}

std::string ctl_run_dir(const config::SuiteConfig& cfg) {
  const std::string own = common::resolve_run_dir(cfg.run);
  if (!cfg.run.run_dir.empty()) return own;
  // A suite the units started lives in their RuntimeDirectory, whoever asks (root or a group member).
  const std::string units = std::string(common::kSystemdRunBase) + "/" + cfg.run.name;
  if (own != units && use_systemd(cfg) && !discover_daemons(units).empty()) return units;
  return own;
}

int pipeline_stage(const std::string& daemon) {
  if (daemon == "ingestd") return 0;
  if (daemon == "inferd") return 1;
  if (daemon == "writerd") return 2;
  return 3;
}

std::vector<RunningDaemon> discover_daemons(const std::string& run_dir) {
  std::vector<RunningDaemon> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".sock") continue;
    RunningDaemon d;
    d.id = name.substr(0, name.size() - 5);
    const size_t dash = d.id.find('-');
    d.daemon = d.id.substr(0, dash);
    d.instance = dash == std::string::npos ? "" : d.id.substr(dash + 1);
    if (pipeline_stage(d.daemon) == 3) continue;  // not a daemon's control socket
    d.endpoint = common::control_endpoint(run_dir, d.id);
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const RunningDaemon& a, const RunningDaemon& b) {
    const int sa = pipeline_stage(a.daemon), sb = pipeline_stage(b.daemon);
    return sa != sb ? sa < sb : a.id < b.id;
  });
  return out;
}

int read_pid_file(const std::string& run_dir, const std::string& id) {
  std::ifstream in(run_dir + "/" + id + ".pid");
  int pid = 0;
  in >> pid;
  return in ? pid : 0;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');  // "pid (comm) S ..." — comm may contain spaces
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

}  // namespace peaknet::ctl

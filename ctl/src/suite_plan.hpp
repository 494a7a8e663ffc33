#pragma once
// Which daemon processes one suite consists of and how each is launched: ingestd, one inferd per
// visible GPU (or one CPU inferd), writerd — each with the same config file and overrides.
#include <string>
#include <vector>

#include "common/config/suite_config.hpp"

namespace peaknet::ctl {

struct DaemonLaunch {
  std::string daemon;                    ///< "inferd"
  std::string instance;                  ///< "0" (GPU index), "cpu0", or ""
  std::string id;                        ///< "inferd-0"
  std::vector<std::string> argv;         ///< argv[0] = the binary
  std::vector<std::string> environment;  ///< "KEY=value" set for this daemon on top of peakctl's own
};

struct PlanOptions {
  std::string config_path;             ///< passed on as --config ("" = none: built-in defaults)
  std::vector<std::string> overrides;  ///< passed on as --set
  std::string run_dir;                 ///< passed on as --run-dir
  bool cpu = false;                    ///< one CPU inferd even when GPUs are visible
};

/// GPUs this process may use: CUDA_VISIBLE_DEVICES when set (entries, "" or "-1" = none), else the
/// /dev/nvidia<N> device nodes.
int visible_gpu_count();
/// The executable of `daemon`: control.bin_dir, then next to peakctl (install) and the build tree
/// (<build>/daemons/<daemon>/), then PATH; names "peaknet-<daemon>" then "<daemon>". Throws naming
/// the places searched.
std::string find_daemon_binary(const std::string& daemon, const config::SuiteConfig& cfg);
/// The launch list in pipeline order. Throws when a binary is missing.
std::vector<DaemonLaunch> plan_suite(const config::SuiteConfig& cfg, const PlanOptions& options);

}  // namespace peaknet::ctl

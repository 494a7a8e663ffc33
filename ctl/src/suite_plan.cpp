#include "suite_plan.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "common/run_dir.hpp"
#include "malloc_tunables.hpp"

namespace peaknet::ctl {

namespace fs = std::filesystem;

int visible_gpu_count() {
  if (const char* env = std::getenv("CUDA_VISIBLE_DEVICES")) {
    std::string list(env);
    if (list.empty() || list == "-1" || list == "none" || list == "NoDevFiles") return 0;
    int n = 0;
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');) n += !item.empty();
    return n;
  }
  int n = 0;
  std::error_code ec;
  static const std::regex node("nvidia[0-9]+");
  for (const auto& e : fs::directory_iterator("/dev", ec)) {
    n += std::regex_match(e.path().filename().string(), node);
  }
  return n;
}

std::string find_daemon_binary(const std::string& daemon, const config::SuiteConfig& cfg) {
  std::vector<fs::path> dirs;
  if (!cfg.control.bin_dir.empty()) dirs.emplace_back(cfg.control.bin_dir);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(self.parent_path());
    dirs.push_back(self.parent_path().parent_path() / "daemons" / daemon);  // build tree: <build>/ctl/peakctl
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    for (std::string d; std::getline(in, d, ':');)
      if (!d.empty()) dirs.emplace_back(d);
  }
  const std::string names[] = {"peaknet-" + daemon, daemon};
  std::string searched;
  for (const auto& dir : dirs) {
    for (const auto& name : names) {
      const fs::path candidate = dir / name;
      if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    if (searched.size() < 400) searched += (searched.empty() ? "" : ", ") + dir.string();
  }
  throw std::runtime_error("no executable peaknet-" + daemon + " or " + daemon + " in " + searched +
                           " (set control.bin_dir)");
}

std::vector<DaemonLaunch> plan_suite(const config::SuiteConfig& cfg, const PlanOptions& options) {
  auto base_args = [&](const std::string& binary) {
    std::vector<std::string> argv = {binary};
    if (!options.config_path.empty()) argv.insert(argv.end(), {"--config", options.config_path});
    for (const auto& o : options.overrides) argv.insert(argv.end(), {"--set", o});
    if (!options.run_dir.empty()) argv.insert(argv.end(), {"--run-dir", options.run_dir});
    return argv;
  };
  auto make = [&](const std::string& daemon, const std::string& instance, std::vector<std::string> extra) {
    DaemonLaunch l{
        daemon, instance, common::daemon_id(daemon, instance), base_args(find_daemon_binary(daemon, cfg)), {}};
    if (!instance.empty()) l.argv.insert(l.argv.end(), {"--instance", instance});
    l.argv.insert(l.argv.end(), extra.begin(), extra.end());
    return l;
  };
  std::vector<DaemonLaunch> plan;
  plan.push_back(make("ingestd", "", {}));
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  plan.back().environment.push_back("GLIBC_TUNABLES=" + with_hugetlb_malloc(tunables != nullptr ? tunables : ""));
  const int gpus = options.cpu || cfg.inferd.device == config::Device::kCpu ? 0 : visible_gpu_count();
  if (gpus == 0) {
    plan.push_back(make("inferd", "cpu0", {"--set", "inferd.device=cpu"}));
  } else {
    for (int g = 0; g < gpus; ++g) {
      plan.push_back(make("inferd", std::to_string(g), {"--set", "inferd.gpu=" + std::to_string(g)}));
    }
  }
  plan.push_back(make("writerd", "", {}));
  return plan;
}

}  // namespace peaknet::ctl

#include <CLI/CLI.hpp>

#include "common/config/log_level.hpp"
#include "common/config/overrides.hpp"
#include "common/daemon_runtime.hpp"

namespace peaknet::common {

void add_daemon_options(CLI::App& app, DaemonCli& cli) {
  app.add_option("-c,--config", cli.config_path, "suite config (JSON); default: built-in defaults");
  app.add_option("--set", cli.overrides, "override a config key, e.g. --set inferd.batch_size=4 (repeatable)")
      ->take_last()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  std::string levels;
  for (auto name : config::enum_names(config::kLogLevelValues))
    levels += (levels.empty() ? "" : "|") + std::string(name);
  app.add_option("--log-level", cli.log_level, levels + " (overrides config)");
  app.add_option("--instance", cli.instance, "instance name (inferd: GPU index); names socket and stats");
  app.add_option("--run-dir", cli.run_dir, "control sockets and pid files (overrides run.run_dir)");
}

config::SuiteConfig load_daemon_config(const DaemonCli& cli) {
  std::vector<std::string> overrides = cli.overrides;
  if (!cli.run_dir.empty()) overrides.push_back("run.run_dir=" + cli.run_dir);
  if (cli.config_path.empty()) {
    nlohmann::json root = nlohmann::json::object();
    config::apply_overrides(root, overrides);
    return config::parse_suite_config(root, "<built-in defaults>");
  }
  return config::load_suite_config(cli.config_path, overrides);
}

}  // namespace peaknet::common

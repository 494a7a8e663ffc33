// inferd: one process per GPU (or one CPU backend): Q1 events -> PeakNet -> peaks -> Q2 results.
//   inferd --config F [--set k=v]... [--gpu N] [--instance I]      (see docs/inferd.md)
// Respects CUDA_VISIBLE_DEVICES (--gpu indexes the visible devices). SIGINT/SIGTERM drain and exit 0.
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/daemon_runtime.hpp"
#include "common/logging.hpp"
#include "inferd/inferd_service.hpp"

namespace {

using namespace peaknet;

common::DaemonState to_daemon_state(inferd::ServiceState s) {
  switch (s) {
    case inferd::ServiceState::kStarting: return common::DaemonState::kStarting;
    case inferd::ServiceState::kWarming: return common::DaemonState::kWarming;
    case inferd::ServiceState::kReady: return common::DaemonState::kReady;
    case inferd::ServiceState::kDraining: return common::DaemonState::kDraining;
    case inferd::ServiceState::kStopped: return common::DaemonState::kStopped;
  }
  return common::DaemonState::kFailed;
}

int run_daemon(const config::SuiteConfig& cfg, common::DaemonCli cli, int gpu) {
  logging::init("inferd", !cli.log_level.empty()          ? cli.log_level
                          : !cfg.inferd.log_level.empty() ? cfg.inferd.log_level
                                                          : cfg.run.log_level);
  inferd::InferdOptions options;
  options.gpu = gpu;
  auto service = inferd::InferdService::create(cfg, options);
  common::DaemonHooks hooks;
  hooks.stats = [&] { return service->stats(); };
  hooks.apply_live = [&](const std::string& key, const nlohmann::json& value, std::string& error) {
    return service->apply_live(key, value, error);
  };
  hooks.request_drain = [&] { service->request_drain(); };
  hooks.request_stop = [&] { service->request_stop(); };
  hooks.swap_model = [&](const std::string& path, std::string& error) {
    return service->swap_model(path, error);
  };
  if (cli.instance.empty()) {
    const auto& block = service->counter_block_name();
    cli.instance = block.substr(block.rfind('-') + 1);  // "0", "1", ... or "cpu0"
  }
  common::DaemonRuntime runtime("inferd", cli.instance, cfg, hooks);
  runtime.watch(service->progress());
  inferd::RunHooks run_hooks;
  run_hooks.on_state = [&](inferd::ServiceState s) { runtime.set_state(to_daemon_state(s)); };
  run_hooks.heartbeat = [&] { runtime.heartbeat(); };
  const int rc = service->run(run_hooks);
  runtime.write_final_stats();
  spdlog::info("inferd exits (rc {})", rc);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"inferd: Q1 events -> PeakNet on one GPU (or the CPU) -> peaks in Q2"};
  common::DaemonCli cli;
  common::add_daemon_options(app, cli);
  int gpu = -1;
  app.add_option("--gpu", gpu, "CUDA device index among the visible devices (default: inferd.gpu)")
      ->check(CLI::Range(0, 255));
  CLI11_PARSE(app, argc, argv);
  try {
    const auto cfg = common::load_daemon_config(cli);
    return run_daemon(cfg, cli, gpu);
  } catch (const std::exception& e) {
    std::cerr << "inferd: " << e.what() << "\n";
    return 1;
  }
}

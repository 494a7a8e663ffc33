// inferd: one process per GPU (or one CPU backend): Q1 events -> PeakNet -> peaks -> Q2 results.
//   inferd --config F [--set k=v]... [--gpu N] [--instance I]      (see docs/inferd.md)
// Respects CUDA_VISIBLE_DEVICES (--gpu indexes the visible devices). SIGINT/SIGTERM drain and exit 0.
// The instance names the device when nothing else does (systemd: peaknet-inferd@%i.service runs
// `--instance %i`): "N" = GPU N, "cpuN" = the CPU backend (inferd.device=cpu, inferd.cpu_index=N).
#include <chrono>
#include <iostream>
#include <regex>

#include <fmt/format.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/daemon_runtime.hpp"
#include "common/logging.hpp"
#include "inferd/inferd_service.hpp"

namespace {

using namespace peaknet;

// systemd's STATUS= line (systemctl status peaknet-inferd@N): rates over the last interval and totals.
class StatusLine {
 public:
  std::string update(const nlohmann::json& stats) {
    const auto& c = stats["counters"];
    const double events = c.value("events_out", 0.0), batches = c.value("batches", 0.0);
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_t_).count();
    std::string line = fmt::format("{:.1f} events/s, {:.1f} batches/s; {:.0f} events, {:.0f} batches",
                                   dt > 0 ? (events - last_events_) / dt : 0.0,
                                   dt > 0 ? (batches - last_batches_) / dt : 0.0, events, batches);
    if (c.contains("gpu_busy_pct")) line += fmt::format("; GPU busy {}%", c["gpu_busy_pct"].dump());
    last_t_ = now;
    last_events_ = events;
    last_batches_ = batches;
    return line;
  }

 private:
  std::chrono::steady_clock::time_point last_t_ = std::chrono::steady_clock::now();
  double last_events_ = 0, last_batches_ = 0;
};

// "cpuN" -> inferd.device=cpu + cpu_index=N; "N" -> GPU N (unless --gpu says otherwise).
void apply_instance(common::DaemonCli& cli, int& gpu) {
  static const std::regex cpu("cpu([0-9]+)"), index("[0-9]+");
  std::smatch m;
  if (std::regex_match(cli.instance, m, cpu)) {
    cli.overrides.insert(cli.overrides.begin(), {"inferd.device=cpu", "inferd.cpu_index=" + m[1].str()});
  } else if (gpu < 0 && std::regex_match(cli.instance, index)) {
    gpu = std::stoi(cli.instance);
  }
}

common::DaemonState to_daemon_state(inferd::ServiceState s) {
  switch (s) {
    case inferd::ServiceState::kStarting:
      return common::DaemonState::kStarting;
    case inferd::ServiceState::kWarming:
      return common::DaemonState::kWarming;
    case inferd::ServiceState::kReady:
      return common::DaemonState::kReady;
    case inferd::ServiceState::kDraining:
      return common::DaemonState::kDraining;
    case inferd::ServiceState::kStopped:
      return common::DaemonState::kStopped;
  }
  return common::DaemonState::kFailed;
}

int run_daemon(const config::SuiteConfig& cfg, common::DaemonCli cli, int gpu) {
  logging::init("inferd", logging::effective_level(cli.log_level, cfg.inferd.log_level, cfg.run.log_level));
  inferd::InferdOptions options;
  options.gpu = gpu;
  options.instance = cli.instance;
  auto service = inferd::InferdService::create(cfg, options);
  common::DaemonHooks hooks;
  hooks.stats = [&] { return service->stats(); };
  hooks.live_keys = service->live_keys();
  hooks.request_drain = [&] { service->request_drain(); };
  hooks.request_stop = [&] { service->request_stop(); };
  hooks.swap_model = [&](const std::string& path, std::string& error) { return service->swap_model(path, error); };
  if (cli.instance.empty()) {
    const auto& block = service->counter_block_name();
    cli.instance = block.substr(block.rfind('-') + 1);  // "0", "1", ... or "cpu0"
  }
  common::DaemonRuntime runtime("inferd", cli.instance, cfg, hooks);
  runtime.watch(service->progress());
  inferd::RunHooks run_hooks;
  run_hooks.on_state = [&](inferd::ServiceState s) { runtime.set_state(to_daemon_state(s)); };
  StatusLine status;
  auto last_status = std::chrono::steady_clock::now();
  run_hooks.heartbeat = [&] {
    runtime.heartbeat();
    if (const auto now = std::chrono::steady_clock::now(); now - last_status >= std::chrono::seconds(2)) {
      last_status = now;
      runtime.set_status(status.update(service->stats()));
    }
  };
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
    apply_instance(cli, gpu);
    const auto cfg = common::load_daemon_config(cli);
    return run_daemon(cfg, cli, gpu);
  } catch (const std::exception& e) {
    std::cerr << "inferd: " << e.what() << "\n";
    return 1;
  }
}

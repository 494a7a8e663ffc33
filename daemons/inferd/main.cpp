// inferd: one process per GPU (or one CPU backend): Q1 events -> PeakNet -> peaks -> Q2 results.
//   inferd --config F [--set k=v]... [--gpu N] [--instance I]      (see docs/inferd.md)
// Respects CUDA_VISIBLE_DEVICES (--gpu indexes the visible devices). SIGINT/SIGTERM drain and exit 0.
// The instance names the device when nothing else does (systemd: peaknet-inferd@%i.service runs
// `--instance %i`): "N" = GPU N, "cpuN" = the CPU backend (inferd.device=cpu, inferd.cpu_index=N).
#include <regex>

#include <CLI/CLI.hpp>

#include "common/daemon_main.hpp"
#include "inferd/inferd_service.hpp"

using namespace peaknet;

namespace {

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

}  // namespace

int main(int argc, char** argv) {
  int gpu = -1;
  common::DaemonMain main;
  main.name = "inferd";
  main.description = "inferd: Q1 events -> PeakNet on one GPU (or the CPU) -> peaks in Q2";
  main.status_interval = std::chrono::seconds(2);
  main.section_log_level = [](const config::SuiteConfig& cfg) { return cfg.inferd.log_level; };
  main.add_options = [&](CLI::App& app) {
    app.add_option("--gpu", gpu, "CUDA device index among the visible devices (default: inferd.gpu)")
        ->check(CLI::Range(0, 255));
  };
  main.before_start = [&](common::DaemonCli& cli) -> std::optional<int> {
    apply_instance(cli, gpu);
    return std::nullopt;
  };
  main.create = [&](config::SuiteConfig& cfg, const common::DaemonCli& cli) {
    inferd::InferdOptions options;
    options.gpu = gpu;
    options.instance = cli.instance;
    return std::make_unique<inferd::InferdService>(cfg, options);
  };
  return common::run_daemon_main(argc, argv, main);
}

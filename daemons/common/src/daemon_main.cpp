#include "common/daemon_main.hpp"

#include <iostream>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/logging.hpp"

namespace peaknet::common {

namespace {

DaemonHooks hooks_of(Daemon& daemon) {
  DaemonHooks hooks;
  hooks.stats = [&daemon] { return daemon.stats(); };
  hooks.live_keys = daemon.live_keys();
  hooks.request_drain = [&daemon] { daemon.request_drain(); };
  hooks.request_stop = [&daemon] { daemon.request_stop(); };
  if (daemon.can_swap_model()) {
    hooks.swap_model = [&daemon](const std::string& path, std::string& error) {
      return daemon.swap_model(path, error);
    };
  }
  return hooks;
}

// From the runtime's start (control socket, READY when the daemon says so) to the final stats.
int serve(const DaemonMain& main, const config::SuiteConfig& cfg, const DaemonCli& cli, Daemon& daemon) {
  const std::string instance = cli.instance.empty() ? daemon.default_instance() : cli.instance;
  DaemonRuntime runtime(main.name, instance, cfg, hooks_of(daemon));
  runtime.watch(daemon.progress());
  StatusThrottle status(main.status_interval);
  RunHooks hooks;
  hooks.on_state = [&](DaemonState state) { runtime.set_state(state); };
  hooks.tick = [&] {
    runtime.heartbeat();
    if (status.due(StatusThrottle::Clock::now())) runtime.set_status(daemon.status_line());
  };
  const int code = daemon.run(hooks);
  runtime.set_state(code == 0 ? DaemonState::kStopped : DaemonState::kFailed);
  runtime.write_final_stats();
  spdlog::info("{} exits with {}", main.name, code);
  return code;
}

}  // namespace

int run_daemon_main(int argc, char** argv, const DaemonMain& main, std::ostream& err) {
  if (!main.create || !main.section_log_level) {
    throw std::logic_error("run_daemon_main(" + main.name + "): create and section_log_level are required");
  }
  CLI::App app{main.description};
  DaemonCli cli;
  add_daemon_options(app, cli);
  if (main.add_options) main.add_options(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (main.before_start) {
      if (const auto code = main.before_start(cli)) return *code;
    }
    auto cfg = load_daemon_config(cli);
    logging::init(main.name, logging::effective_level(cli.log_level, main.section_log_level(cfg), cfg.run.log_level));
    const auto daemon = main.create(cfg, cli);
    return serve(main, cfg, cli, *daemon);
  } catch (const std::exception& e) {
    err << main.name << ": " << e.what() << "\n";
    return 1;
  }
}

int run_daemon_main(int argc, char** argv, const DaemonMain& main) {
  return run_daemon_main(argc, argv, main, std::cerr);
}

}  // namespace peaknet::common

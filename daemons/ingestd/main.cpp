// ingestd: receives lclstreamer batches (ZeroMQ PULL), decodes them into Q1 events. See docs/ingestd.md.
//   ingestd --config F [--set k=v]... [--record DIR]
//   ingestd inspect FILE...            decode recorded messages offline, one JSON line per file
#include <chrono>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/daemon_runtime.hpp"
#include "common/logging.hpp"
#include "ingest/decode/inspect.hpp"
#include "ingestd/ingestd.hpp"

namespace {

using namespace peaknet;

int run_daemon(config::SuiteConfig cfg, const common::DaemonCli& cli) {
  logging::init("ingestd", logging::effective_level(cli.log_level, cfg.ingestd.log_level, cfg.run.log_level));
  ingestd::Ingestd daemon(cfg);
  common::DaemonHooks hooks;
  hooks.stats = [&] { return daemon.stats(); };
  hooks.live_keys = daemon.live_keys();
  hooks.request_drain = [&] { daemon.request_drain(); };
  hooks.request_stop = [&] { daemon.request_stop(); };
  common::DaemonRuntime runtime("ingestd", cli.instance, cfg, hooks);
  runtime.watch(daemon.progress());
  runtime.set_state(common::DaemonState::kReady);
  auto last_status = std::chrono::steady_clock::now();
  const auto reason = daemon.run([&] {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_status >= std::chrono::seconds(1)) {
      last_status = now;
      runtime.set_status(daemon.status_line());
    }
  });
  runtime.set_state(common::DaemonState::kStopped);
  runtime.write_final_stats();
  spdlog::info("ingestd exits ({})", ingestd::to_string(reason));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ingestd: lclstreamer batches (ZeroMQ) -> decoded events in the Q1 shared-memory ring"};
  common::DaemonCli cli;
  common::add_daemon_options(app, cli);
  std::string record_dir;
  app.add_option("--record", record_dir, "save every received raw message (with its arrival time) in DIR");
  auto* inspect = app.add_subcommand("inspect", "decode recorded messages and describe them (JSON lines)");
  std::vector<std::string> files;
  inspect->add_option("files", files, "message files")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    if (*inspect) {
      // The config (or the built-in defaults) with --set applied, like the daemon: a --set without
      // --config must not be ignored.
      const auto cfg = common::load_daemon_config(cli);
      const auto options =
          ingest::DecoderOptions::from_config(config::ConfigNode(cfg.ingestd.decode, "config.ingestd.decode"));
      return ingest::run_inspect(files, options, std::cout);
    }
    auto cfg = common::load_daemon_config(cli);
    if (!record_dir.empty()) cfg.ingestd.record_dir = record_dir;
    return run_daemon(std::move(cfg), cli);
  } catch (const std::exception& e) {
    std::cerr << "ingestd: " << e.what() << "\n";
    return 1;
  }
}

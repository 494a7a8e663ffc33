// ingestd: receives lclstreamer batches (ZeroMQ PULL), decodes them into Q1 events. See docs/ingestd.md.
//   ingestd --config F [--set k=v]... [--record DIR]
//   ingestd inspect FILE...            decode recorded messages offline, one JSON line per file
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/daemon_main.hpp"
#include "ingest/decode/inspect.hpp"
#include "ingestd/ingestd.hpp"

int main(int argc, char** argv) {
  using namespace peaknet;
  std::string record_dir;
  CLI::App* inspect = nullptr;
  std::vector<std::string> files;
  common::DaemonMain main;
  main.name = "ingestd";
  main.description = "ingestd: lclstreamer batches (ZeroMQ) -> decoded events in the Q1 shared-memory ring";
  main.section_log_level = [](const config::SuiteConfig& cfg) { return cfg.ingestd.log_level; };
  main.add_options = [&](CLI::App& app) {
    app.add_option("--record", record_dir, "save every received raw message (with its arrival time) in DIR");
    inspect = app.add_subcommand("inspect", "decode recorded messages and describe them (JSON lines)");
    inspect->add_option("files", files, "message files")->required();
  };
  main.before_start = [&](common::DaemonCli& cli) -> std::optional<int> {
    if (!*inspect) return std::nullopt;
    // The config (or the built-in defaults) with --set applied, like the daemon: a --set without
    // --config must not be ignored.
    const auto cfg = common::load_daemon_config(cli);
    const auto options =
        ingest::DecoderOptions::from_config(config::ConfigNode(cfg.ingestd.decode, "config.ingestd.decode"));
    return ingest::run_inspect(files, options, std::cout);
  };
  main.create = [&](config::SuiteConfig& cfg, const common::DaemonCli&) {
    if (!record_dir.empty()) cfg.ingestd.record_dir = record_dir;
    return std::make_unique<ingestd::Ingestd>(cfg);
  };
  return common::run_daemon_main(argc, argv, main);
}

// peakctl: start, stop, watch and reconfigure the peaknet daemon suite. See docs/ctl.md.
#include <iostream>

#include <CLI/CLI.hpp>

#include "src/commands.hpp"

using namespace peaknet::ctl;

int main(int argc, char** argv) {
  CLI::App app{"peakctl — control the peaknet daemon suite (ingestd -> inferd -> writerd)"};
  app.require_subcommand(1);
  CtlOptions o;
  auto common = [&o](CLI::App* sub) {
    sub->add_option("-c,--config", o.config_path,
                    "suite config (default: /etc/peaknet/peaknet.json, the units' config, when installed)");
    // One value per --set: the words after it stay positional (reconfigure's key=value pairs).
    sub->add_option("--set", o.overrides, "override a config key: --set a.b=value (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->add_option("--run-dir", o.run_dir, "run directory (overrides run.run_dir)");
    sub->add_flag("--json", o.json, "machine-readable output");
    return sub;
  };
  StartArgs start;
  auto* s = common(app.add_subcommand("start", "start the suite and wait until every daemon is ready"));
  s->add_flag("--cpu", start.cpu, "one CPU inferd even when GPUs are visible");
  s->add_flag("--no-systemd", start.no_systemd, "supervise the daemons ourselves even if units are installed");
  s->add_flag("--foreground", start.foreground, "stay in the foreground as the supervisor");
  bool now = false;
  auto* stop = common(app.add_subcommand("stop", "drain and stop in pipeline order (no event in flight is lost)"));
  stop->add_flag("--now", now, "stop immediately (queued events stay in the rings)");
  std::string restart_id;
  auto* restart = common(app.add_subcommand("restart", "restart one daemon (e.g. writerd, inferd-0)"));
  restart->add_option("daemon", restart_id, "daemon id as shown by peakctl status")->required();
  auto* status = common(app.add_subcommand("status", "every daemon: state, pid, uptime, version, config digest"));
  StatsArgs stats;
  auto* st = common(app.add_subcommand("stats", "live table of rates, queues, drops, latency and the ledger"));
  st->add_flag("--once", stats.once, "print one table (rates over one interval) and exit");
  st->add_option("--interval", stats.interval_s, "refresh interval in seconds");
  st->add_option("--iterations", stats.iterations, "stop after this many refreshes");
  st->add_option("--fleet", stats.fleet, "HOST:PORT metrics endpoints of several nodes: sum their ledgers once")
      ->expected(1, -1);
  std::string listen;
  auto* metrics = common(app.add_subcommand("metrics", "serve Prometheus metrics (GET /metrics) in the foreground"));
  metrics->add_option("--listen", listen, "ADDRESS:PORT (default control.metrics_address:metrics_port)");
  ReconfigureArgs rec;
  auto* re = common(app.add_subcommand("reconfigure", "apply live keys (key=value ...) or swap model weights"));
  re->add_option("assignments", rec.assignments, "key=value, e.g. inferd.batch_size=16");
  re->add_option("--model", rec.model_path, "new weights file, swapped in each inferd one at a time");
  RunArgs run;
  auto* config = app.add_subcommand("config", "read the configuration the running daemons hold");
  config->require_subcommand(1);
  std::string config_key;
  auto* config_get = common(config->add_subcommand("get", "KEY (a.b): its value in every running daemon"));
  config_get->add_option("key", config_key, "config key, e.g. inferd.batch_size")->required();
  auto* r = common(app.add_subcommand("run",
                                      "run the suite in the foreground for one finite stream; "
                                      "prints stats and the ledger, exit 0 when it balances"));
  r->add_option("--events", run.events, "synthetic events to send (sets ingestd.source=synthetic)");
  r->add_flag("--cpu", run.cpu, "one CPU inferd even when GPUs are visible");
  auto* doctor = common(app.add_subcommand("doctor", "check shm, memlock, hugepages, GPUs, ports, stale state"));
  std::string sample_message;
  doctor->add_option("--message", sample_message,
                     "a sample message (as the streamer sends it): do its events fit the rings' slots?");
  bool dry = false;
  auto* clean = common(app.add_subcommand("clean", "remove sockets, pid files and shm segments of dead runs"));
  clean->add_flag("--dry-run", dry, "only list what would be removed");
  bool force_clean = false;
  clean->add_flag("--force", force_clean, "also delete rings that still hold unprocessed events");

  CLI11_PARSE(app, argc, argv);
  try {
    if (s->parsed()) return cmd_start(o, start);
    if (stop->parsed()) return cmd_stop(o, now);
    if (restart->parsed()) return cmd_restart(o, restart_id);
    if (status->parsed()) return cmd_status(o);
    if (st->parsed()) return cmd_stats(o, stats);
    if (metrics->parsed()) return cmd_metrics(o, listen);
    if (re->parsed()) return cmd_reconfigure(o, rec);
    if (r->parsed()) return cmd_run(o, run);
    if (config_get->parsed()) return cmd_config_get(o, config_key);
    if (doctor->parsed()) return cmd_doctor(o, sample_message);
    if (clean->parsed()) return cmd_clean(o, dry, force_clean);
  } catch (const std::exception& e) {
    std::cerr << "peakctl: " << e.what() << "\n";
    return kUsage;
  }
  return kUsage;
}

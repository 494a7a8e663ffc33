// peakctl run: the whole suite in the foreground for one finite stream (demo, tests, batch jobs).
// Starts the daemons as children, waits until the stream has ended and every daemon has exited, then
// prints the run's stats and the ledger; exit 0 only when the ledger balances.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "child_set.hpp"
#include "commands.hpp"
#include "common/run_dir.hpp"
#include "lifecycle.hpp"
#include "stats_view.hpp"
#include "suite_plan.hpp"

namespace peaknet::ctl {

namespace {
std::atomic<int> g_interrupts{0};
extern "C" void on_interrupt(int) { g_interrupts++; }

}  // namespace

int cmd_run(const CtlOptions& o, const RunArgs& a) {
  CtlOptions eff = o;
  if (a.events >= 0) {
    eff.overrides.push_back("ingestd.source=synthetic");
    eff.overrides.push_back("ingestd.synthetic.events=" + std::to_string(a.events));
  }
  const auto cfg = load_ctl_config(eff);
  const std::string run_dir = ctl_run_dir(cfg);
  common::ensure_run_dir(run_dir);
  for (const auto& d : discover_daemons(run_dir)) {
    if (process_alive(read_pid_file(run_dir, d.id))) {
      std::cerr << "peakctl run: " << d.id << " is already running in " << run_dir
                << " (peakctl stop, or --set run.name=OTHER)\n";
      return kFailed;
    }
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run_dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 11 && n.substr(n.size() - 11) == ".final.json") std::filesystem::remove(e.path(), ec);
  }
  // A run starts from zero: counters and rings a dead run of the same name left behind would be
  // counted again (counter blocks are reattached on purpose so that a restarted daemon keeps counting).
  // Not silently: queued events of a crashed run die here (peakctl start would resume them).
  for (const auto& [ring, queued] : queued_in_stale_rings(cfg)) {
    std::cerr << "peakctl run: deleting " << queued << " unprocessed events queued in /dev/shm/" << ring
              << " by an earlier run of " << cfg.run.name << " (peakctl start resumes them instead)\n";
  }
  remove_stale_segments(cfg, /*dry_run=*/false, std::cerr);
  if (cfg.ingestd.source == config::IngestSource::kSynthetic && cfg.ingestd.synthetic.events == 0) {
    std::cerr << "peakctl run: the synthetic stream is endless (ingestd.synthetic.events=0); Ctrl+C ends it\n";
  }
  PlanOptions plan_options{o.config_path.empty() ? "" : std::filesystem::absolute(o.config_path).string(),
                           eff.overrides, o.run_dir, a.cpu};
  const auto plan = plan_suite(cfg, plan_options);

  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  ChildSet children(run_dir);
  std::vector<RunningDaemon> daemons;
  for (const auto& launch : plan) {
    children.spawn(launch);  // throws: ChildSet kills the ones already started
    daemons.push_back({launch.id, launch.daemon, launch.instance, common::control_endpoint(run_dir, launch.id)});
  }
  std::cerr << "peakctl run: started";
  for (const auto& l : plan) std::cerr << " " << l.id;
  std::cerr << " (logs in " << run_dir << ")\n";

  const auto t0 = std::chrono::steady_clock::now();
  auto last_progress = t0;
  Snapshot last_seen;  // daemons that exited keep their last numbers in the progress ledger
  bool all_ok = true, stopping = false;
  StopOptions stop_options;
  stop_options.stage_timeout = std::chrono::seconds(cfg.control.stop_timeout_s);
  auto on_exit = [&](const ChildExit& e) {
    if (e.ok) return;
    all_ok = false;
    const auto tail = children.log_since_spawn(e.id, 15);
    std::cerr << "peakctl run: " << e.id << " " << e.description
              << (tail.empty() ? "; it wrote nothing to its log" : "; last lines of its log (this run):") << "\n";
    for (const auto& line : tail) std::cerr << "    " << line << "\n";
  };
  while (children.alive_count() > 0) {
    for (const auto& e : children.reap()) on_exit(e);
    if (!stopping && (g_interrupts > 0 || !all_ok)) {
      stopping = true;
      std::cerr << "peakctl run: " << (all_ok ? "interrupted" : "a daemon failed")
                << ": stopping the suite in pipeline order\n";
      stop_options.now = g_interrupts > 1;
      if (!all_ok) stop_options.stage_timeout = std::chrono::seconds(10);
      stop_pipeline(run_dir, daemons, stop_options, &children, std::cerr, on_exit);
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress > std::chrono::seconds(5)) {
      last_progress = now;
      Snapshot s = collect_snapshot(cfg, run_dir);
      keep_vanished_daemons(s, last_seen, run_dir);
      last_seen = s;
      std::cerr << fmt::format("peakctl run: {:.0f} s: ", std::chrono::duration<double>(now - t0).count())
                << ledger_line(s.ledger) << "\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const Snapshot final = final_snapshot(run_dir);
  const auto& l = final.ledger;
  const bool count_ok = a.events < 0 || l.received == double(a.events);
  const bool balanced = all_ok && l.in_flight == 0 && count_ok && final.daemons.size() == plan.size();
  if (o.json) {
    auto j = stats_to_json(final, nullptr);
    j["elapsed_s"] = elapsed;
    j["balanced"] = balanced;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << render_stats_table(final, nullptr,
                                    fmt::format("peaknet run {} — finished in {:.1f} s ({:.1f} events/s "
                                                "received)",
                                                cfg.run.name, elapsed, elapsed > 0 ? l.received / elapsed : 0.0));
    if (cfg.inferd.model.random_init) std::cout << "note: the model has random weights (inferd.model.random_init)\n";
    if (balanced) {
      std::cout << "ledger balances: every received event was written, filtered or dropped with a reason\n";
    } else {
      std::cout << "LEDGER DOES NOT BALANCE:";
      if (!all_ok) std::cout << " a daemon failed;";
      if (l.in_flight != 0) std::cout << fmt::format(" {:.0f} events unaccounted for;", l.in_flight);
      if (!count_ok) std::cout << fmt::format(" received {:.0f} of {} events;", l.received, a.events);
      if (final.daemons.size() != plan.size()) {
        std::cout << fmt::format(" final stats from {} of {} daemons;", final.daemons.size(), plan.size());
      }
      std::cout << "\n";
    }
  }
  // A clean end leaves nothing in /dev/shm; a failed run keeps its segments for post-mortem
  // `peakctl stats` until `peakctl clean` (or the next run).
  if (balanced) {
    std::ostringstream removed;
    if (const int n = remove_stale_segments(cfg, /*dry_run=*/false, removed); n > 0) {
      std::cerr << "peakctl run: removed the run's " << n << " shm segments\n";
    }
  }
  return balanced ? kOk : kFailed;
}

}  // namespace peaknet::ctl

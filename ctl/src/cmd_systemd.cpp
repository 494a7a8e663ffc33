// peakctl start / stop / restart when the systemd units run the suite. systemd owns the processes;
// peakctl only orders the units, waits for READY through the control sockets and reports failures
// with the unit's journal. The units' ordering (writerd -> inferd@* -> ingestd) makes a stop drain in
// pipeline order, whether it comes from here or from `systemctl stop peaknet.target`.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common/control_client.hpp"
#include "common/run_dir.hpp"
#include "lifecycle.hpp"
#include "stats_view.hpp"
#include "systemd_cmds.hpp"

namespace peaknet::ctl {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Units that are not active (or restarting) with their journal tail: what start reports on failure.
std::string failed_units_report(const std::vector<std::string>& units) {
  std::string out;
  for (const auto& u : units) {
    const std::string active = unit_property(u, "ActiveState");
    const std::string sub = unit_property(u, "SubState");
    const std::string restarts = unit_property(u, "NRestarts");
    if (active == "active" && sub == "running" && (restarts.empty() || restarts == "0")) continue;
    out += fmt::format("  {}: {} ({}), restarts {}; journal:\n", u, active, sub, restarts.empty() ? "?" : restarts);
    const std::string tail = journal_tail(u, 12);
    for (size_t start = 0; start < tail.size();) {
      const size_t nl = std::min(tail.find('\n', start), tail.size());
      out += "    " + tail.substr(start, nl - start) + "\n";
      start = nl + 1;
    }
  }
  return out;
}
}  // namespace

std::string systemd_config_refusal(const CtlOptions& o) {
  if (!o.overrides.empty()) {
    return "the systemd units read " + units_config_path() +
           "; --set cannot reach them: edit that file (or use --no-systemd to run a variant by hand)";
  }
  std::error_code ec;
  if (!o.config_path.empty() && !fs::equivalent(o.config_path, units_config_path(), ec)) {
    return "the systemd units read " + units_config_path() + ", not " + o.config_path +
           ": copy it there (or use --no-systemd)";
  }
  return "";
}

int start_via_systemd(const config::SuiteConfig& cfg, const std::string& run_dir, const std::vector<std::string>& ids) {
  std::vector<std::string> units;
  for (const auto& id : ids) units.push_back(unit_of(id));
  // A unit that hit its start limit in an earlier attempt would refuse to start at all.
  std::vector<std::string> reset = {"reset-failed"};
  reset.insert(reset.end(), units.begin(), units.end());
  systemctl(reset, /*quiet=*/true);  // units not loaded yet have nothing to reset
  std::vector<std::string> args = {"start"};
  args.insert(args.end(), units.begin(), units.end());
  args.push_back("peaknet.target");
  const auto t0 = Clock::now();
  // Blocks until every Type=notify unit sent READY=1 (or failed): the units' TimeoutStartSec applies.
  if (!systemctl(args)) {
    std::cerr << "peakctl start: systemd could not start the suite:\n"
              << failed_units_report(units)
              << "fix the cause, then peakctl start again (peakctl stop stops what did start)\n";
    return kFailed;
  }
  std::string error;
  if (!wait_ready(run_dir, ids, std::chrono::seconds(cfg.control.ready_timeout_s), nullptr, error,
                  [&units]() -> std::string {
                    for (const auto& u : units) {
                      if (unit_property(u, "ActiveState") == "failed") return u + " failed";
                    }
                    return "";
                  })) {
    std::cerr << "peakctl start: " << error << "\n" << failed_units_report(units);
    return kFailed;
  }
  std::cout << fmt::format("started {} daemons via systemd in {:.1f} s (run dir {})\n", ids.size(), seconds_since(t0),
                           run_dir);
  if (cfg.control.metrics_port > 0) {
    std::cout << "metrics: http://" << cfg.control.metrics_address << ":" << cfg.control.metrics_port
              << "/metrics (peaknet-metrics.service)\n";
  }
  return kOk;
}

int stop_via_systemd(const CtlOptions& o, const config::SuiteConfig& cfg, const std::string& run_dir,
                     const std::vector<RunningDaemon>& daemons, bool now) {
  if (now) {
    // "stop" leaves queued events in the rings (taken up at the next start) instead of draining them.
    for (const auto& d : daemons) common::control_request(d.endpoint, {{"cmd", "stop"}});
  }
  std::vector<std::string> units = {"peaknet.target"};
  for (const auto& d : daemons) units.push_back(unit_of(d.id));
  units.push_back("peaknet-metrics.service");
  std::vector<std::string> args = {"stop"};
  args.insert(args.end(), units.begin(), units.end());
  const auto t0 = Clock::now();
  const bool stopped = systemctl(args);  // blocks: ingestd, then inferd@*, then writerd (unit ordering)
  const double took = seconds_since(t0);
  bool clean = stopped;
  for (const auto& u : units) {
    const std::string state = unit_property(u, "ActiveState");
    if (state == "inactive") continue;
    clean = false;
    std::cerr << "peakctl stop: " << u << " is " << state << "\n" << journal_tail(u, 8);
  }
  const auto final = final_snapshot(run_dir);
  if (clean && final.ledger.in_flight == 0) {
    std::ostringstream removed;  // a clean end leaves nothing behind in /dev/shm
    if (const int n = remove_stale_segments(cfg, /*dry_run=*/false, removed); n > 0) {
      std::cerr << "peakctl stop: removed the run's " << n << " shm segments\n";
    }
  }
  if (o.json) {
    std::cout << nlohmann::json{{"stopped", clean},
                                {"seconds", took},
                                {"ledger", stats_to_json(final, nullptr)["ledger"]}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << fmt::format("{} in {:.1f} s; ", clean ? "stopped" : "stopped with failures", took)
              << ledger_line(final.ledger) << "\n";
  }
  return clean ? kOk : kFailed;
}

int restart_via_systemd(const config::SuiteConfig& cfg, const std::string& run_dir, const std::string& id) {
  // "stop", not a systemd stop (SIGTERM = drain): a drained inferd/ingestd would finish its ring and end
  // the stream downstream. Queued events stay in the rings and are taken up by the new process.
  const int old_pid = read_pid_file(run_dir, id);
  common::control_request(common::control_endpoint(run_dir, id), {{"cmd", "stop"}});
  for (int i = 0; i < 600 && process_alive(old_pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!systemctl({"restart", unit_of(id)})) {
    std::cerr << "peakctl restart: " << failed_units_report({unit_of(id)});
    return kFailed;
  }
  std::string error;
  if (!wait_ready(run_dir, {id}, std::chrono::seconds(cfg.control.ready_timeout_s), nullptr, error)) {
    std::cerr << "peakctl restart: " << error << "\n" << failed_units_report({unit_of(id)});
    return kFailed;
  }
  std::cout << "restarted " << unit_of(id) << " (pid " << read_pid_file(run_dir, id) << ")\n";
  return kOk;
}

}  // namespace peaknet::ctl

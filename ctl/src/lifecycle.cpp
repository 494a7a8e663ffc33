#include "lifecycle.hpp"

#include <signal.h>

#include <map>
#include <set>
#include <thread>

#include "common/control_client.hpp"
#include "common/run_dir.hpp"

namespace peaknet::ctl {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(100);

// Alive = our child not yet reaped, or (not our child) the pid from the pid file is a live process.
bool daemon_alive(const std::string& run_dir, const RunningDaemon& d, int pid, ChildSet* children) {
  if (children && children->pid(d.id) > 0) return children->alive(d.id);
  return pid > 0 ? process_alive(pid) : false;
}
}  // namespace

bool wait_ready(const std::string& run_dir, const std::vector<std::string>& ids, std::chrono::seconds timeout,
                ChildSet* children, std::string& error, const std::function<std::string()>& abort_check) {
  const auto deadline = Clock::now() + timeout;
  std::set<std::string> pending(ids.begin(), ids.end());
  std::map<std::string, std::string> last_state;
  while (!pending.empty()) {
    if (children) {
      for (const auto& e : children->reap()) {
        if (!e.ok) {
          error = e.id + " " + e.description + " before it was ready (see " + run_dir + "/" + e.id + ".log)";
          return false;
        }
        pending.erase(e.id);  // finished its (short) stream already
      }
    }
    if (abort_check) {
      error = abort_check();
      if (!error.empty()) return false;
    }
    for (auto it = pending.begin(); it != pending.end();) {
      const auto reply = common::control_request(common::control_endpoint(run_dir, *it), {{"cmd", "status"}},
                                                 std::chrono::milliseconds(1000));
      const std::string state = reply.value("state", std::string("unreachable"));
      last_state[*it] = state;
      if (state == "failed") {
        error = *it + " reports state failed (see " + run_dir + "/" + *it + ".log or journalctl)";
        return false;
      }
      it = state == "ready" ? pending.erase(it) : std::next(it);
    }
    if (pending.empty()) break;
    if (Clock::now() > deadline) {
      error = "not ready after " + std::to_string(timeout.count()) + " s:";
      for (const auto& id : pending) error += " " + id + " (" + last_state[id] + ")";
      return false;
    }
    std::this_thread::sleep_for(kPoll);
  }
  return true;
}

bool stop_pipeline(const std::string& run_dir, const std::vector<RunningDaemon>& daemons, const StopOptions& options,
                   ChildSet* children, std::ostream& log, const std::function<void(const ChildExit&)>& on_exit) {
  bool clean = true;
  std::map<std::string, int> pids;
  for (const auto& d : daemons) {
    pids[d.id] = children && children->pid(d.id) > 0 ? children->pid(d.id) : read_pid_file(run_dir, d.id);
  }
  auto reap = [&] {
    if (!children) return;
    for (const auto& e : children->reap()) {
      if (on_exit) on_exit(e);
    }
  };
  for (int stage = 0; stage <= 3; ++stage) {
    std::vector<const RunningDaemon*> group;
    for (const auto& d : daemons) {
      if (pipeline_stage(d.daemon) == stage) group.push_back(&d);
    }
    if (group.empty()) continue;
    auto all_gone = [&] {
      reap();
      for (const auto* d : group) {
        if (daemon_alive(run_dir, *d, pids[d->id], children)) return false;
      }
      return true;
    };
    auto wait_gone = [&](std::chrono::milliseconds limit) {
      const auto deadline = Clock::now() + limit;
      while (!all_gone()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(kPoll);
      }
      return true;
    };
    const char* verb = options.now ? "stop" : "drain";
    for (const auto* d : group) {
      if (!daemon_alive(run_dir, *d, pids[d->id], children)) continue;
      log << "peakctl: " << verb << " " << d->id << "\n" << std::flush;
      const auto reply = common::control_request(d->endpoint, {{"cmd", verb}}, std::chrono::milliseconds(2000));
      if (!reply.value("ok", false)) {
        // A consumer ends by itself once its input is finished and drained (inferd after ingestd): its
        // control socket closes just before it exits. Gone within a moment = done, not a refusal.
        const auto grace = Clock::now() + std::chrono::seconds(3);
        while (daemon_alive(run_dir, *d, pids[d->id], children) && Clock::now() < grace) {
          reap();
          std::this_thread::sleep_for(kPoll);
        }
        if (!daemon_alive(run_dir, *d, pids[d->id], children)) {
          log << "peakctl: " << d->id << " had already finished (its input was drained)\n";
          continue;
        }
        log << "peakctl: " << d->id << " did not accept " << verb << " ("
            << reply["error"].value("message", std::string("?")) << "); sending SIGTERM\n";
        if (pids[d->id] > 0) ::kill(pids[d->id], SIGTERM);
      }
    }
    if (wait_gone(options.stage_timeout)) continue;
    clean = false;
    for (const auto* d : group) {
      if (!daemon_alive(run_dir, *d, pids[d->id], children)) continue;
      log << "peakctl: " << d->id << " still running after " << options.stage_timeout.count()
          << " s; asking it to stop now\n";
      common::control_request(d->endpoint, {{"cmd", "stop"}}, std::chrono::milliseconds(2000));
    }
    if (wait_gone(std::chrono::seconds(10))) continue;
    for (const auto* d : group) {
      if (!daemon_alive(run_dir, *d, pids[d->id], children)) continue;
      log << "peakctl: killing " << d->id << " (pid " << pids[d->id] << ")\n";
      if (pids[d->id] > 0) ::kill(pids[d->id], SIGKILL);
    }
    wait_gone(std::chrono::seconds(5));
  }
  return clean;
}

}  // namespace peaknet::ctl

#pragma once
// ChildSet: daemon processes started by peakctl (run, or start's supervisor). Each child's stdout and
// stderr go to <run_dir>/<id>.log; the set reaps them and, when destroyed without release(), kills
// what is left. A peakctl killed outright (SIGKILL, SIGPIPE, a closed terminal) cannot run that code:
// each child also gets SIGTERM from the kernel when peakctl dies (PR_SET_PDEATHSIG), so it drains and
// exits instead of blocking the next run ("... is already running").
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "suite_plan.hpp"

namespace peaknet::ctl {

struct ChildExit {
  std::string id;
  int pid = 0;
  bool ok = false;          ///< exited with status 0
  std::string description;  ///< "exited 0", "exited 3", "killed by signal 9"
};

class ChildSet {
 public:
  explicit ChildSet(std::string run_dir) : run_dir_(std::move(run_dir)) {}
  ~ChildSet();
  ChildSet(const ChildSet&) = delete;
  ChildSet& operator=(const ChildSet&) = delete;

  /// fork + exec; throws std::runtime_error naming the binary when it cannot start.
  void spawn(const DaemonLaunch& launch);
  /// Children that exited since the last call (never blocks).
  std::vector<ChildExit> reap();
  size_t alive_count() const { return pids_.size(); }
  bool alive(const std::string& id) const { return pids_.count(id) != 0; }
  int pid(const std::string& id) const;
  const DaemonLaunch* launch_of(const std::string& id) const;
  /// The last `lines` lines the child `id` wrote to its log since its latest spawn (not an earlier run's).
  std::vector<std::string> log_since_spawn(const std::string& id, size_t lines) const;
  void signal(const std::string& id, int signo) const;
  void signal_all(int signo) const;
  /// Leave the children running when this object goes away.
  void release() { released_ = true; }

 private:
  std::string run_dir_;
  std::map<std::string, pid_t> pids_;
  std::map<std::string, DaemonLaunch> launches_;
  std::map<std::string, off_t> log_offsets_;  ///< log size when the child was spawned
  bool released_ = false;
};

}  // namespace peaknet::ctl

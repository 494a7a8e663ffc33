#pragma once
// InferdChildren: one forked inferd process per GPU (bench_inferd --gpus), as production runs them.
//
// fork() happens before the parent initialises CUDA or torch (it never does in --gpus mode): a CUDA
// context does not survive fork(), and the child needs its own. Each child runs
// InferdService(config) -> run() and _exit()s (0, or 2 with its error on stderr); it writes one
// byte to a pipe when the service is ready (after warm-up), so the parent can start the stream only when
// every inferd can take it, and an EOF before that byte means the child died while starting.
// The destructor SIGKILLs and reaps every child still running (any failure path of the parent).
// While an InferdChildren exists, SIGINT/SIGTERM only set interrupted() (the children get the default
// action back), so that a Ctrl-C still ends in the cleanup (children killed, segments unlinked).
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/config/suite_config.hpp"

namespace peaknet::bench {

class InferdChildren {
 public:
  InferdChildren();
  InferdChildren(const InferdChildren&) = delete;
  InferdChildren& operator=(const InferdChildren&) = delete;
  ~InferdChildren();

  /// Forks a child running inferd with `config` (its inferd.gpu / cpu_index already set); `gpu` names
  /// it in messages. Call only while the parent has no other thread (fork keeps the calling thread only).
  void spawn(const config::SuiteConfig& config, int gpu);
  /// Blocks until every child reported ready; std::runtime_error when one ends first or on timeout.
  void wait_ready(std::chrono::seconds timeout);
  /// Non-blocking: "" while all run, else "inferd process for gpu N (pid P) ended: <status>" of the first
  /// child found ended (reaped).
  std::string first_ended();
  /// Reaps every child; std::runtime_error naming the first one that did not exit with status 0 or did
  /// not end within timeout.
  void wait_all(std::chrono::seconds timeout);
  size_t size() const { return children_.size(); }
  /// SIGINT or SIGTERM arrived while an InferdChildren existed.
  static bool interrupted();

 private:
  struct Child {
    int gpu = 0;
    pid_t pid = -1;
    int ready_fd = -1;  ///< read end of the child's ready pipe
    bool ready = false;
    bool reaped = false;
    int status = 0;  ///< waitpid status once reaped
  };
  bool try_reap(Child& c);
  std::string describe(const Child& c) const;

  std::vector<Child> children_;
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace peaknet::bench

#include "child_set.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "common/unique_fd.hpp"

namespace peaknet::ctl {

ChildSet::~ChildSet() {
  if (released_) return;
  signal_all(SIGKILL);
  for (const auto& [id, pid] : pids_) ::waitpid(pid, nullptr, 0);
}

void ChildSet::spawn(const DaemonLaunch& launch) {
  const std::string log_path = run_dir_ + "/" + launch.id + ".log";
  common::UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) throw std::runtime_error("cannot open log " + log_path + ": " + std::strerror(errno));
  const int log_fd = log.get();
  const off_t log_offset = ::lseek(log_fd, 0, SEEK_END);
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  common::UniqueFd exec_error_read(err_pipe[0]), exec_error_write(err_pipe[1]);
  std::vector<char*> argv;
  for (const auto& a : launch.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The child's environment, built before fork (the child may only make async-signal-safe calls):
  // peakctl's own, with launch.environment's keys replaced.
  std::vector<std::string> env_storage(launch.environment);
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto key = entry.substr(0, entry.find('=') + 1);
    bool overridden = false;
    for (const auto& o : launch.environment) overridden = overridden || o.compare(0, key.size(), key) == 0;
    if (!overridden) env_storage.emplace_back(entry);
  }
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed for " + launch.id);
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec (or _exit: no destructor runs here). Dies (drains) with peakctl;
    // if peakctl is already gone (killed between fork and prctl), do not start at all.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(128 + SIGTERM);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::setpgid(0, 0);  // a Ctrl+C in peakctl's terminal reaches peakctl only; it drains in order
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    const int e = errno;
    [[maybe_unused]] auto n = ::write(err_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  log.reset();
  exec_error_write.reset();  // only the child's copy (closed by a successful exec) stays open
  int exec_errno = 0;
  const ssize_t n = ::read(exec_error_read.get(), &exec_errno, sizeof exec_errno);
  if (n == sizeof exec_errno) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot execute " + launch.argv[0] + ": " + std::strerror(exec_errno));
  }
  pids_[launch.id] = pid;
  launches_[launch.id] = launch;
  log_offsets_[launch.id] = log_offset < 0 ? 0 : log_offset;
}

std::vector<ChildExit> ChildSet::reap() {
  std::vector<ChildExit> out;
  for (auto it = pids_.begin(); it != pids_.end();) {
    int status = 0;
    const pid_t r = ::waitpid(it->second, &status, WNOHANG);
    if (r != it->second) {
      ++it;
      continue;
    }
    ChildExit e{it->first, it->second, false, ""};
    if (WIFEXITED(status)) {
      e.ok = WEXITSTATUS(status) == 0;
      e.description = "exited " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      e.description = "killed by signal " + std::to_string(WTERMSIG(status));
    }
    out.push_back(std::move(e));
    it = pids_.erase(it);
  }
  return out;
}

int ChildSet::pid(const std::string& id) const {
  const auto it = pids_.find(id);
  return it == pids_.end() ? 0 : it->second;
}

const DaemonLaunch* ChildSet::launch_of(const std::string& id) const {
  const auto it = launches_.find(id);
  return it == launches_.end() ? nullptr : &it->second;
}

std::vector<std::string> ChildSet::log_since_spawn(const std::string& id, size_t lines) const {
  std::ifstream in(run_dir_ + "/" + id + ".log");
  const auto it = log_offsets_.find(id);
  if (it != log_offsets_.end()) in.seekg(it->second);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  return {tail.begin(), tail.end()};
}

void ChildSet::signal(const std::string& id, int signo) const {
  if (const int p = pid(id); p > 0) ::kill(p, signo);
}

void ChildSet::signal_all(int signo) const {
  for (const auto& [id, pid] : pids_) ::kill(pid, signo);
}

}  // namespace peaknet::ctl

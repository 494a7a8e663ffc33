#pragma once
// A writerd child process for fault tests: started with a config file, killed (SIGKILL) by the
// destructor if the test left it running, output in <dir>/writerd-<n>.log.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace peaknet::writerd::testing {

class WriterdProcess {
 public:
  /// `max_file_bytes` > 0: RLIMIT_FSIZE of the child with SIGXFSZ ignored, so writes past it fail
  /// with EFBIG, like a full disk (raise it later with set_max_file_bytes()).
  WriterdProcess(const std::string& config_path, const std::string& log_path, rlim_t max_file_bytes = 0) {
    const std::string binary = std::string(PEAKNET_BINARY_DIR) + "/daemons/writerd/writerd";
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (max_file_bytes > 0) {
        ::signal(SIGXFSZ, SIG_IGN);                         // ignored dispositions survive exec
        const rlimit limit{max_file_bytes, RLIM_INFINITY};  // soft only: it can be raised again
        ::setrlimit(RLIMIT_FSIZE, &limit);
      }
      ::execl(binary.c_str(), "writerd", "--config", config_path.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~WriterdProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  WriterdProcess(const WriterdProcess&) = delete;
  WriterdProcess& operator=(const WriterdProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// The disk "has space again".
  bool set_max_file_bytes(rlim_t bytes) {
    const rlimit limit{bytes, RLIM_INFINITY};
    return ::prlimit(pid_, RLIMIT_FSIZE, &limit, nullptr) == 0;
  }
  void signal(int signo) { ::kill(pid_, signo); }
  /// Exit code, -signal when killed, or -1000 on timeout (the process is left running).
  int wait(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1000;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

/// Polls `condition` every 10 ms up to `timeout`.
template <typename F>
bool wait_until(F condition, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace peaknet::writerd::testing

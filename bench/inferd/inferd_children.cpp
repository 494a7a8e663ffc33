#include "inferd_children.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "inferd/inferd_service.hpp"

namespace peaknet::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kReadyByte = 'R';
volatile sig_atomic_t g_interrupted = 0;

extern "C" void note_interrupt(int) { g_interrupted = 1; }

/// The child's whole life: never returns into the parent's code (no static destructors of the
/// parent's copy, no stack unwinding into main).
[[noreturn]] void run_child(const config::SuiteConfig& config, int gpu, int ready_fd) {
  int code = 0;
  try {
    auto service = std::make_unique<inferd::InferdService>(config);
    common::RunHooks hooks;
    hooks.on_state = [ready_fd](common::DaemonState state) {
      if (state != common::DaemonState::kReady) return;
      const ssize_t n = ::write(ready_fd, &kReadyByte, 1);
      (void)n;  // the parent gone: PR_SET_PDEATHSIG ends this process anyway
    };
    service->run(hooks);
    service.reset();  // leaves the rings as a stopping inferd does (handles unregistered)
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_inferd: inferd process for gpu %d (pid %d): %s\n", gpu, int(getpid()), e.what());
    code = 2;
  } catch (...) {
    std::fprintf(stderr, "bench_inferd: inferd process for gpu %d (pid %d): unknown exception\n", gpu, int(getpid()));
    code = 2;
  }
  std::fflush(stderr);
  ::_exit(code);
}

}  // namespace

InferdChildren::InferdChildren() {
  struct sigaction sa {};
  sa.sa_handler = note_interrupt;
  sa.sa_flags = SA_RESTART;  // the waits here poll the flag at least once a second
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int_);
  ::sigaction(SIGTERM, &sa, &old_term_);
}

bool InferdChildren::interrupted() { return g_interrupted != 0; }

InferdChildren::~InferdChildren() {
  for (auto& c : children_) {
    if (!c.reaped) {
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, nullptr, 0);
    }
    if (c.ready_fd >= 0) ::close(c.ready_fd);
  }
  ::sigaction(SIGINT, &old_int_, nullptr);
  ::sigaction(SIGTERM, &old_term_, nullptr);
}

void InferdChildren::spawn(const config::SuiteConfig& config, int gpu) {
  children_.reserve(children_.size() + 1);  // no allocation failure between fork and bookkeeping
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("pipe for the inferd on gpu {}: {}", gpu, std::strerror(errno)));
  }
  std::fflush(stdout);  // the child must not print the parent's buffered output a second time
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(fmt::format("fork for the inferd on gpu {}: {}", gpu, std::strerror(err)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    for (const auto& c : children_) ::close(c.ready_fd);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed bench takes its inferds along
    if (::getppid() != parent) ::_exit(3);
    run_child(config, gpu, fds[1]);
  }
  // Closed here so that only the child holds the write end: its death is EOF (later children must not
  // inherit it).
  ::close(fds[1]);
  children_.push_back(Child{gpu, pid, fds[0]});
}

void InferdChildren::wait_ready(std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Child*> waiting;
    for (auto& c : children_) {
      if (!c.ready) {
        fds.push_back(pollfd{c.ready_fd, POLLIN, 0});
        waiting.push_back(&c);
      }
    }
    if (waiting.empty()) return;
    if (interrupted()) throw std::runtime_error("interrupted by a signal while the inferds were starting");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      throw std::runtime_error(
          fmt::format("inferd process for gpu {} (pid {}) not ready after {} s "
                      "(model load + warm-up)",
                      waiting.front()->gpu, waiting.front()->pid, timeout.count()));
    }
    if (::poll(fds.data(), fds.size(), int(std::min<int64_t>(left, 1000))) < 0 && errno != EINTR) {
      throw std::runtime_error(fmt::format("poll on the inferd ready pipes: {}", std::strerror(errno)));
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char byte = 0;
      const ssize_t n = ::read(fds[i].fd, &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n == 1 && byte == kReadyByte) {
        waiting[i]->ready = true;
        continue;
      }
      Child& c = *waiting[i];  // EOF: the child ended (or closed the pipe) while starting
      for (auto end = Clock::now() + std::chrono::seconds(5); !try_reap(c) && Clock::now() < end;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      throw std::runtime_error(
          fmt::format("inferd process for gpu {} (pid {}) ended before it was ready: {}", c.gpu, c.pid, describe(c)));
    }
  }
}

std::string InferdChildren::first_ended() {
  for (auto& c : children_) {
    if (c.reaped || try_reap(c)) {
      return fmt::format("inferd process for gpu {} (pid {}) ended: {}", c.gpu, c.pid, describe(c));
    }
  }
  return {};
}

void InferdChildren::wait_all(std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    bool all = true;
    for (auto& c : children_) all = (c.reaped || try_reap(c)) && all;
    if (all || Clock::now() >= deadline) break;
    if (interrupted()) throw std::runtime_error("interrupted by a signal while the inferds were draining");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& c : children_) {
    if (!c.reaped) {
      throw std::runtime_error(
          fmt::format("inferd process for gpu {} (pid {}) still running {} s after "
                      "Q1 finished",
                      c.gpu, c.pid, timeout.count()));
    }
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
      throw std::runtime_error(fmt::format("inferd process for gpu {} (pid {}) failed: {}", c.gpu, c.pid, describe(c)));
    }
  }
}

bool InferdChildren::try_reap(Child& c) {
  if (c.reaped) return true;
  int status = 0;
  if (::waitpid(c.pid, &status, WNOHANG) != c.pid) return false;
  c.reaped = true;
  c.status = status;
  return true;
}

std::string InferdChildren::describe(const Child& c) const {
  if (!c.reaped) return "still running";
  if (WIFEXITED(c.status)) {
    const int code = WEXITSTATUS(c.status);
    return code == 0 ? "exit status 0" : fmt::format("exit status {} (its error is above)", code);
  }
  if (WIFSIGNALED(c.status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(c.status), ::strsignal(WTERMSIG(c.status)));
  }
  return fmt::format("wait status {:#x}", c.status);
}

}  // namespace peaknet::bench

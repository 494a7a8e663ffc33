#pragma once
// run_daemon_main(): the whole main() of ingestd, inferd and writerd. Each daemon's main.cpp describes
// itself (DaemonMain) and passes argc/argv; this owns what they share:
//   - the command line (add_daemon_options + the daemon's own options), config load with --set/--run-dir;
//   - the log level: --log-level, else the daemon's section log_level, else run.log_level;
//   - the DaemonRuntime (control socket, signals, sd_notify READY/STATUS/STOPPING, watchdog) wired to the
//     Daemon's stats, live keys, drain/stop, progress monitor and (inferd) model swap;
//   - the status line: the daemon's status_line() every `status_interval`, from run()'s ticks;
//   - the end: state stopped (exit 0) or failed, "<id>.final.json", "<daemon> exits with <code>".
// Exit codes: run()'s code; 1 on a start-up error (one line on stderr, "<daemon>: <what failed>", the
// message naming the input); CLI11's code for a bad command line.
#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "common/config/suite_config.hpp"
#include "common/daemon.hpp"
#include "common/daemon_runtime.hpp"

namespace CLI {
class App;
}

namespace peaknet::common {

struct DaemonMain {
  std::string name;         ///< "ingestd": logger, control id, the start-up error's prefix
  std::string description;  ///< first line of --help
  /// How often the status line is refreshed (systemd STATUS=, `peakctl status`).
  std::chrono::milliseconds status_interval{1000};
  /// The daemon's own section log_level (the middle of the cascade), e.g. cfg.ingestd.log_level.
  std::function<std::optional<config::LogLevel>(const config::SuiteConfig&)> section_log_level;
  /// Optional: adds the daemon's own options and subcommands before parsing.
  std::function<void(CLI::App&)> add_options;
  /// Optional: runs after parsing, before the config is loaded. May adjust the shared options (inferd's
  /// --instance), or run a subcommand instead of the daemon: then it returns the exit code.
  std::function<std::optional<int>(DaemonCli&)> before_start;
  /// Makes the daemon (after logging is set up) from the loaded config, which it may adjust first (what
  /// the runtime then reports). Throws, naming the input at fault, when it cannot start.
  std::function<std::unique_ptr<Daemon>(config::SuiteConfig& cfg, const DaemonCli& cli)> create;
};

/// main() of a daemon: see above. `err` takes the start-up error line.
int run_daemon_main(int argc, char** argv, const DaemonMain& main, std::ostream& err);
int run_daemon_main(int argc, char** argv, const DaemonMain& main);

/// Lets the status line through once per interval (the first one interval after construction).
class StatusThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StatusThrottle(std::chrono::milliseconds interval, Clock::time_point start = Clock::now())
      : interval_(interval), last_(start) {}
  /// True (and the interval restarts at `now`) when at least one interval passed since the last true.
  bool due(Clock::time_point now) {
    if (now - last_ < interval_) return false;
    last_ = now;
    return true;
  }

 private:
  std::chrono::milliseconds interval_;
  Clock::time_point last_;
};

}  // namespace peaknet::common

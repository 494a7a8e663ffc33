// writerd: Q2 peak lists -> CXI files of hits (CrystFEL --peaks=cxi), run summary, live feed.
//   writerd --config F [--set k=v]... [--log-level L] [--run-dir DIR]
// See docs/writerd.md. Exit 0 when the run ended cleanly (Q2 finished, drained or stopped with every
// event written), 1 when the output was failing at the end (unwritten events stay in Q2) or on a
// startup error (one line naming the input).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/daemon_runtime.hpp"
#include "common/logging.hpp"
#include "common/unique_fd.hpp"
#include "writerd/writer_service.hpp"

namespace {

using namespace peaknet;

// READY promises that events can be written: an output dir that cannot take a file (read-only file
// system, ProtectSystem=strict outside ReadWritePaths, permissions) fails the start instead.
void require_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string probe = dir + "/.writerd-probe-" + std::to_string(::getpid());
  const common::UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    throw std::runtime_error("writerd.output_dir " + std::filesystem::absolute(dir).string() +
                             ": cannot write a file there (" + std::strerror(errno) + ")" +
                             (ec ? "; creating it failed: " + ec.message() : ""));
  }
  ::unlink(probe.c_str());
}

int run_daemon(const config::SuiteConfig& cfg, const common::DaemonCli& cli) {
  logging::init("writerd", logging::effective_level(cli.log_level, cfg.writerd.log_level, cfg.run.log_level));
  require_writable_dir(cfg.writerd.output_dir);
  writerd::WriterService service(cfg);
  common::DaemonHooks hooks;
  hooks.stats = [&] { return service.stats(); };
  hooks.live_keys = service.live_keys();
  hooks.request_drain = [&] { service.request_drain(); };
  hooks.request_stop = [&] { service.request_stop(); };
  common::DaemonRuntime runtime("writerd", cli.instance, cfg, hooks);
  runtime.watch(service.progress());
  runtime.set_state(common::DaemonState::kReady);
  auto last_status = std::chrono::steady_clock::now();
  service.set_progress_callback([&] {
    runtime.heartbeat();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_status >= std::chrono::seconds(1)) {
      last_status = now;
      const auto s = service.stats();
      runtime.set_status(std::to_string(s.value("events_written", uint64_t(0))) + " written, " +
                         std::to_string(s.value("events_filtered", uint64_t(0))) + " filtered, " +
                         std::to_string(s.value("held_slots", uint64_t(0))) + " held, state " +
                         s.value("state", std::string("running")));
    }
  });
  const int code = service.run();
  runtime.set_state(code == 0 ? common::DaemonState::kStopped : common::DaemonState::kFailed);
  runtime.write_final_stats();
  spdlog::info("writerd exits with {}", code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"writerd: Q2 peak lists -> CXI files (CrystFEL --peaks=cxi)"};
  common::DaemonCli cli;
  common::add_daemon_options(app, cli);
  CLI11_PARSE(app, argc, argv);
  try {
    return run_daemon(common::load_daemon_config(cli), cli);
  } catch (const std::exception& e) {
    std::cerr << "writerd: " << e.what() << "\n";
    return 1;
  }
}

// writerd: Q2 peak lists -> CXI files of hits (CrystFEL --peaks=cxi), run summary, live feed.
//   writerd --config F [--set k=v]... [--log-level L] [--run-dir DIR]
// See docs/writerd.md. Exit 0 when the run ended cleanly (Q2 finished, drained or stopped with every
// event written), 1 when the output was failing at the end (unwritten events stay in Q2) or on a
// startup error (one line naming the input).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/daemon_main.hpp"
#include "common/unique_fd.hpp"
#include "writerd/writer_service.hpp"

using namespace peaknet;

namespace {

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

}  // namespace

int main(int argc, char** argv) {
  common::DaemonMain main;
  main.name = "writerd";
  main.description = "writerd: Q2 peak lists -> CXI files (CrystFEL --peaks=cxi)";
  main.section_log_level = [](const config::SuiteConfig& cfg) { return cfg.writerd.log_level; };
  main.create = [](config::SuiteConfig& cfg, const common::DaemonCli&) {
    require_writable_dir(cfg.writerd.output_dir);
    return std::make_unique<writerd::WriterService>(cfg);
  };
  return common::run_daemon_main(argc, argv, main);
}

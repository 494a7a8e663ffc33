// peakctl doctor (checks the host for what the suite needs and says what to fix) and peakctl clean
// (removes what dead runs left behind: sockets, pid files, stale shm segments).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <fmt/format.h>

#include "commands.hpp"
#include "common/unique_fd.hpp"
#include "doctor_message.hpp"
#include "suite_plan.hpp"

#include "shm/ring.hpp"

namespace peaknet::ctl {

namespace {
struct Report {
  int failures = 0, warnings = 0;
  void ok(const std::string& what) { std::cout << "OK    " << what << "\n"; }
  void info(const std::string& what) { std::cout << "INFO  " << what << "\n"; }
  void warn(const std::string& what, const std::string& fix) {
    ++warnings;
    std::cout << "WARN  " << what << "\n      fix: " << fix << "\n";
  }
  void fail(const std::string& what, const std::string& fix) {
    ++failures;
    std::cout << "FAIL  " << what << "\n      fix: " << fix << "\n";
  }
};

std::string gib(double bytes) { return fmt::format("{:.2f} GiB", bytes / (1024.0 * 1024 * 1024)); }

std::string meminfo(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      auto v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(' '));
      return v;
    }
  }
  return "?";
}

// True when a TCP port can be bound on all interfaces right now.
bool tcp_port_free(int port) {
  const common::UniqueFd socket(::socket(AF_INET, SOCK_STREAM, 0));
  if (!socket.valid()) return true;
  const int fd = socket.get();
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  return ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// Sockets and pid files of daemons whose process is gone.
std::vector<std::string> stale_run_files(const std::string& run_dir) {
  std::vector<std::string> out;
  for (const auto& d : discover_daemons(run_dir)) {
    const int pid = read_pid_file(run_dir, d.id);
    if (process_alive(pid)) continue;
    out.push_back(run_dir + "/" + d.id + ".sock");
    if (pid > 0) out.push_back(run_dir + "/" + d.id + ".pid");
  }
  if (const int sup = read_pid_file(run_dir, "supervisor"); sup > 0 && !process_alive(sup)) {
    out.push_back(run_dir + "/supervisor.pid");
  }
  return out;
}
}  // namespace

int cmd_doctor(const CtlOptions& o, const std::string& message) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  Report r;
  r.info(fmt::format("Q1 slots: {} x {} bytes{}; Q2 slots: {} x {} bytes", cfg.q1.slots, cfg.q1.slot_bytes,
                     cfg.q1.event_shape.empty()
                         ? std::string(" (no q1.event_shape declared: sizes are not checked against the data)")
                         : fmt::format(" (q1.event_shape [{}, {}, {}] {})", cfg.q1.event_shape[0],
                                       cfg.q1.event_shape[1], cfg.q1.event_shape[2], cfg.q1.event_dtype),
                     cfg.q2.slots, cfg.q2.slot_bytes));
  if (!message.empty()) {
    for (const auto& f : check_sample_message(cfg, message)) {
      switch (f.level) {
        case DoctorFinding::Level::kOk:
          r.ok(f.what);
          break;
        case DoctorFinding::Level::kInfo:
          r.info(f.what);
          break;
        case DoctorFinding::Level::kWarn:
          r.warn(f.what, f.fix);
          break;
        case DoctorFinding::Level::kFail:
          r.fail(f.what, f.fix);
          break;
      }
    }
  }
  // Shared memory for the rings.
  const double ring_bytes = double(cfg.q1.slots) * cfg.q1.slot_bytes + double(cfg.q2.slots) * cfg.q2.slot_bytes;
  struct statvfs vfs {};
  if (::statvfs("/dev/shm", &vfs) != 0) {
    r.fail("/dev/shm is not mounted", "mount -t tmpfs -o size=8G tmpfs /dev/shm (containers: --shm-size=8g)");
  } else {
    const double total = double(vfs.f_blocks) * vfs.f_frsize, avail = double(vfs.f_bavail) * vfs.f_frsize;
    const std::string what =
        fmt::format("/dev/shm: {} free of {}; the rings need {}", gib(avail), gib(total), gib(ring_bytes));
    if (avail < ring_bytes) {
      r.fail(what, "enlarge /dev/shm (mount -o remount,size=...; containers: --shm-size) or lower q1/q2 slots");
    } else {
      r.ok(what);
    }
  }
  // Pinned host memory (Q1 registered for DMA).
  struct rlimit rl {};
  ::getrlimit(RLIMIT_MEMLOCK, &rl);
  const double q1_bytes = double(cfg.q1.slots) * cfg.q1.slot_bytes;
  if (rl.rlim_cur == RLIM_INFINITY) {
    r.ok("memlock limit: unlimited");
  } else if (double(rl.rlim_cur) < q1_bytes) {
    r.warn(fmt::format("memlock limit {} < Q1 size {}: inferd cannot pin Q1 for DMA (slower pageable copies)",
                       gib(double(rl.rlim_cur)), gib(q1_bytes)),
           "LimitMEMLOCK=infinity (the units set it) or '* - memlock unlimited' in /etc/security/limits.conf");
  } else {
    r.ok("memlock limit: " + gib(double(rl.rlim_cur)));
  }
  r.info("hugepages: " + meminfo("HugePages_Total") + " x " + meminfo("Hugepagesize") + ", free " +
         meminfo("HugePages_Free"));
  // GPUs.
  const int gpus = visible_gpu_count();
  if (gpus > 0) {
    r.ok(fmt::format("{} GPU(s) visible: one inferd each", gpus));
  } else {
    r.info("no GPU visible (no /dev/nvidia<N> or CUDA_VISIBLE_DEVICES empty): inferd runs on the CPU");
  }
  // Binaries.
  for (const char* d : {"ingestd", "inferd", "writerd"}) {
    try {
      r.ok(std::string(d) + ": " + find_daemon_binary(d, cfg));
    } catch (const std::exception& e) {
      r.fail(e.what(), "build the daemons (scripts/peaknet build) or set control.bin_dir");
    }
  }
  // Run dir, stale sockets.
  const bool any_live = [&] {
    for (const auto& d : discover_daemons(run_dir)) {
      if (process_alive(read_pid_file(run_dir, d.id))) return true;
    }
    return false;
  }();
  if (!std::filesystem::exists(run_dir)) {
    r.info("run dir " + run_dir + " does not exist yet (made on start)");
  } else {
    namespace fsp = std::filesystem;
    const auto perms = fsp::status(run_dir).permissions();
    // run.group_access (the systemd node config) opens it to the group on purpose, never to others.
    const auto too_open = cfg.run.group_access ? fsp::perms::others_all | fsp::perms::group_write
                                               : fsp::perms::group_all | fsp::perms::others_all;
    if ((perms & too_open) != fsp::perms::none) {
      r.warn("run dir " + run_dir + " is accessible by " + (cfg.run.group_access ? "others" : "group/others"),
             std::string("chmod ") + (cfg.run.group_access ? "0750 " : "0700 ") + run_dir);
    } else {
      r.ok("run dir " + run_dir + (any_live ? " (a suite is running)" : ""));
    }
    const auto stale = stale_run_files(run_dir);
    if (!stale.empty()) r.warn(fmt::format("{} stale socket/pid files of dead daemons", stale.size()), "peakctl clean");
  }
  // Ports.
  for (const auto& ep : cfg.ingestd.endpoints) {
    static const std::regex tcp_bind(R"(tcp://(\*|0\.0\.0\.0):(\d+))");
    std::smatch m;
    if (ep.mode != config::EndpointMode::kBind || !std::regex_match(ep.url, m, tcp_bind)) continue;
    const int port = std::stoi(m[2]);
    if (tcp_port_free(port) || any_live) {
      r.ok(fmt::format("ingestd port {} {}", port, any_live ? "(suite running)" : "is free"));
    } else {
      r.fail(fmt::format("ingestd port {} is in use by another process", port),
             "ss -ltnp 'sport = :" + std::to_string(port) + "'");
    }
  }
  if (cfg.control.metrics_port > 0 && !any_live && !tcp_port_free(int(cfg.control.metrics_port))) {
    r.warn(fmt::format("metrics port {} is in use", cfg.control.metrics_port), "set control.metrics_port");
  }
  try {
    int stale = 0;
    for (const auto& seg : shm::Ring::list(cfg.run.name + "-")) stale += seg.stale;
    if (stale > 0) r.warn(fmt::format("{} stale shm segment(s) of {}", stale, cfg.run.name), "peakctl clean");
    else r.ok("no stale shm segments of " + cfg.run.name);
  } catch (const std::exception& e) {
    r.warn(std::string("cannot list shm segments: ") + e.what(), "check /dev/shm");
  }
  r.info(systemd_units_installed() ? "systemd units installed (peakctl start uses them)"
                                   : "systemd units not installed (peakctl start supervises the daemons itself)");
  std::cout << fmt::format("{} problem(s), {} warning(s)\n", r.failures, r.warnings);
  return r.failures > 0 ? kFailed : kOk;
}

int remove_stale_segments(const config::SuiteConfig& cfg, bool dry_run, std::ostream& log) {
  int removed = 0;
  for (const auto& seg : shm::Ring::list(cfg.run.name + "-")) {
    if (!seg.stale) continue;
    log << (dry_run ? "would unlink" : "unlinking") << " /dev/shm/" << seg.name << " (" << seg.kind << ")\n";
    if (!dry_run) {
      shm::Ring::unlink(seg.name);
      ++removed;
    }
  }
  return removed;
}

int remove_finished_rings(const config::SuiteConfig& cfg, std::ostream& log) {
  int removed = 0;
  for (const auto& seg : shm::Ring::list(cfg.run.name + "-")) {
    if (!seg.stale || seg.kind != "ring") continue;
    bool finished = false;
    try {
      finished = shm::Ring::attach(seg.name).finished();
    } catch (const std::exception&) {
      continue;
    }
    if (!finished) continue;
    log << "unlinking the finished ring /dev/shm/" << seg.name << " of an earlier run\n";
    shm::Ring::unlink(seg.name);
    ++removed;
  }
  return removed;
}

std::vector<std::pair<std::string, uint64_t>> queued_in_stale_rings(const config::SuiteConfig& cfg) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& seg : shm::Ring::list(cfg.run.name + "-")) {
    if (!seg.stale || seg.kind != "ring") continue;
    try {
      const uint64_t queued = shm::Ring::attach(seg.name).counters().occupancy;
      if (queued > 0) out.emplace_back(seg.name, queued);
    } catch (const std::exception&) {}
  }
  return out;
}

int cmd_clean(const CtlOptions& o, bool dry_run, bool force) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  std::vector<std::string> files = stale_run_files(run_dir);
  int removed = 0;
  for (const auto& f : files) {
    std::cout << (dry_run ? "would remove " : "removing ") << f << "\n";
    if (!dry_run) removed += std::filesystem::remove(f);
  }
  // The rings of a crashed run hold events nobody processed yet, and the counter blocks the ledger
  // that says what the crash lost: both stay unless the operator says to throw the events away.
  const auto queued = queued_in_stale_rings(cfg);
  uint64_t total = 0;
  for (const auto& [name, n] : queued) total += n;
  if (total > 0 && !force) {
    for (const auto& [name, n] : queued) std::cout << "keeping /dev/shm/" << name << ": " << n << " queued events\n";
    std::cerr << fmt::format(
        "peakctl clean: the rings of {} hold {} unprocessed events; `peakctl start` resumes "
        "them (the shm segments were kept). `peakctl clean --force` deletes them.\n",
        cfg.run.name, total);
    return kFailed;
  }
  if (total > 0) {
    std::cout << fmt::format("{} {} queued events of {} (--force)\n", dry_run ? "would delete" : "deleting", total,
                             cfg.run.name);
  }
  removed += remove_stale_segments(cfg, dry_run, std::cout);
  if (files.empty() && removed == 0) std::cout << "nothing stale in " << run_dir << "\n";
  return kOk;
}

}  // namespace peaknet::ctl

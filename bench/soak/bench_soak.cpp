// bench_soak: the whole suite (ingestd → inferd CPU tiny model → writerd, fed by peaknet-pusher) for a
// set time at a steady rate. Samples each daemon's RSS (VmRSS) and open fds, counts /dev/shm
// segments before and after, and at the end checks the ledger and that no event id was written twice.
//   bench_soak [--seconds 600] [--rate 10] [--sample-s 5] [--warmup-s 30] [--set a.b=v ...]
// rate = pusher messages/s (4 events of 64×64 float32 each). Exit 0 only when the ledger balances,
// no duplicates, and nothing of the run is left in /dev/shm. SIGINT / SIGTERM end the soak early: the
// pusher stops, the suite drains, the RSS summary and ledger so far are printed, the run's shm is
// cleaned, exit 130.
#include <signal.h>

#include <atomic>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "../../tests/fault/suite/suite_harness.hpp"

using namespace peaknet::fault;

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int signo) { g_signal = signo; }

/// A /proc/<pid>/status field in kB, or -1 when the process is gone.
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return ec && n == 0 ? -1 : n;
}

struct Track {
  std::string daemon;
  pid_t pid = 0;
  long rss_first = -1, rss_last = -1, rss_max = 0, fds_first = -1, fds_last = -1;
};

size_t count_shm() {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator("/dev/shm", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 600, rate = 10, sample_s = 5, warmup_s = 30;
  CLI::App app{"bench_soak: the suite for a set time; RSS / fd / shm growth and the ledger"};
  app.add_option("--seconds", seconds, "how long the pusher sends")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate, "pusher messages per second (4 events each)")->check(CLI::PositiveNumber);
  app.add_option("--sample-s", sample_s, "sampling interval")->check(CLI::PositiveNumber);
  app.add_option("--warmup-s", warmup_s, "RSS growth is measured from the first sample after this");
  std::vector<std::string> sets;
  app.add_option("--set", sets, "config override a.b=v for every daemon (e.g. writerd.dedup_window=1024)");
  CLI11_PARSE(app, argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const size_t shm_before = count_shm();
  bool ok = true, interrupted = false;
  std::string run_name;
  {
    SuiteRun run("soak");
    run_name = run.name();
    const uint64_t messages = uint64_t(seconds * rate);
    fmt::print("soak: run {} — {} messages × 4 events at {} msg/s for {:.0f} s (CPU tiny model)\n", run.name(),
               messages, rate, seconds);
    run.start("writerd", sets);
    run.start("inferd", sets);
    auto& ingestd = run.start("ingestd", sets);
    auto& pusher =
        run.push({"--shape", "4", "1", "64", "64", "-c", std::to_string(messages), "-r", fmt::format("{}", rate)});
    std::vector<Track> tracks;
    for (const std::string d : {"ingestd", "inferd", "writerd"}) {
      const std::string nul(1, '\0');
      const std::string needle = "/" + d + nul + "--config" + nul + run.config_path().string();
      eventually([&] { return !pids_with_arg(needle).empty(); }, 10s);
      const auto pids = pids_with_arg(needle);
      if (!pids.empty()) tracks.push_back({d, pids.front()});
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    fmt::print("{:>7}  {}\n", "t [s]", "RSS MiB / fds per daemon");
    while (pusher.running() && g_signal == 0) {
      std::string line = fmt::format("{:7.0f} ", elapsed());
      for (auto& t : tracks) {
        const long rss = status_kb(t.pid, "VmRSS"), fds = open_fds(t.pid);
        if (rss < 0) continue;
        if (elapsed() >= warmup_s && t.rss_first < 0) t.rss_first = rss, t.fds_first = fds;
        t.rss_last = rss;
        t.fds_last = fds;
        t.rss_max = std::max(t.rss_max, rss);
        line += fmt::format("  {} {:.1f}/{}", t.daemon, rss / 1024.0, fds);
      }
      const auto l = run.ledger();
      fmt::print("{}  | received {} written {}\n", line, l.received, l.written);
      std::fflush(stdout);
      const auto next = std::chrono::steady_clock::now() + std::chrono::duration<double>(sample_s);
      while (g_signal == 0 && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(100ms);
    }
    interrupted = g_signal != 0;
    if (interrupted) {
      fmt::print("soak: signal {} at {:.0f} s: stopping the pusher, draining the suite\n", g_signal.load(), elapsed());
      pusher.signal(SIGTERM);
      pusher.wait(5s);
    } else {
      // Drain once ingestd read every message: SIGTERM flushes into Q1 and finishes the stream.
      eventually([&] { return run.counter("ingestd", "messages_received") >= messages; }, 60s);
    }
    ingestd.signal(SIGTERM);
    std::string why;
    if (!run.wait_all(120s, &why)) {
      fmt::print("soak: daemons did not finish cleanly: {}\n{}\n", why, run.log_text(""));
      ok = false;
    }
    const auto l = run.ledger();
    const auto ids = run.written_ids();
    const size_t duplicates = ids.size() - std::set<uint64_t>(ids.begin(), ids.end()).size();
    fmt::print("ledger: {}\n", l.describe());
    fmt::print("pushed {} events{}, written {}, duplicates {}, requeues {}\n", interrupted ? l.received : messages * 4,
               interrupted ? " (received before the interrupt)" : "", l.written, duplicates,
               l.q1_requeued + l.q2_requeued);
    for (const auto& t : tracks) {
      const double growth = t.rss_first > 0 ? 100.0 * double(t.rss_last - t.rss_first) / double(t.rss_first) : 0;
      fmt::print("{:8} RSS {:.1f} → {:.1f} MiB (max {:.1f}) growth {:+.2f}%  fds {} → {}\n", t.daemon,
                 t.rss_first / 1024.0, t.rss_last / 1024.0, t.rss_max / 1024.0, growth, t.fds_first, t.fds_last);
    }
    ok = ok && l.in_flight() == 0 && duplicates == 0 && l.received == messages * 4 && l.written == l.received;
    fmt::print("shm segments of the run at exit (kept for peakctl until cleaned): {}\n",
               shm_segments(run.name()).size());
  }
  const size_t shm_after = count_shm(), leaked = shm_segments(run_name).size();
  fmt::print("/dev/shm entries before {} after {} (whole machine); segments of the run left after cleanup: {}\n",
             shm_before, shm_after, leaked);
  ok = ok && leaked == 0;
  if (interrupted) {
    fmt::print("soak: INTERRUPTED (numbers above are for the partial run; pushed = what the pusher had sent)\n");
    return 130;
  }
  fmt::print("soak: {}\n", ok ? "PASS (ledger balances, no duplicates, nothing lost)" : "FAIL");
  return ok ? 0 : 1;
}

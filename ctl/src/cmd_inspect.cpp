// peakctl stats / metrics: read-only views of the running suite (shm counters, control sockets).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "common/control_client.hpp"
#include "delivery_view.hpp"
#include "fleet_view.hpp"
#include "metrics.hpp"
#include "stats_view.hpp"

namespace peaknet::ctl {

namespace {
std::atomic<bool> g_quit{false};
extern "C" void on_quit(int) { g_quit = true; }

void install_quit_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_quit;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void sleep_interruptible(std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (!g_quit && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}
// ingestd's own stats (per-connection table): not in shm, asked on its control socket.
nlohmann::json ingestd_stats(const std::string& run_dir) {
  for (const auto& d : discover_daemons(run_dir)) {
    if (d.daemon != "ingestd" || !process_alive(read_pid_file(run_dir, d.id))) continue;
    const auto reply = common::control_request(d.endpoint, {{"cmd", "stats"}}, std::chrono::milliseconds(1000));
    if (reply.value("ok", false)) return reply.value("stats", nlohmann::json::object());
  }
  return nlohmann::json::object();
}

nlohmann::json peer_tables(const nlohmann::json& stats) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& ep : stats.value("endpoints", nlohmann::json::array())) {
    out.push_back(
        {{"endpoint", ep.value("bound", std::string())}, {"peers", ep.value("peer_table", nlohmann::json::object())}});
  }
  return out;
}
}  // namespace

int cmd_stats(const CtlOptions& o, const StatsArgs& a) {
  if (!a.fleet.empty()) return cmd_stats_fleet(a.fleet, o.json);
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  const auto interval = std::chrono::milliseconds(a.interval_s > 0 ? static_cast<int64_t>(a.interval_s * 1000)
                                                                   : cfg.control.stats_interval_ms);
  const std::string title =
      fmt::format("peaknet stats — run {} ({}), refresh {:.1f} s", cfg.run.name, run_dir, interval.count() / 1000.0);
  install_quit_handlers();
  Snapshot prev = collect_snapshot(cfg, run_dir);
  if (prev.daemons.empty()) {
    std::cerr << "peakctl stats: nothing running in " << run_dir << "\n";
    return kNotRunning;
  }
  const bool tty = ::isatty(STDOUT_FILENO);
  for (int i = 0; !g_quit; ++i) {
    sleep_interruptible(a.once ? std::min(interval, std::chrono::milliseconds(1000)) : interval);
    Snapshot now = collect_snapshot(cfg, run_dir);
    const nlohmann::json ingestd = ingestd_stats(run_dir);
    if (o.json) {
      auto j = stats_to_json(now, &prev);
      j["delivery"]["endpoints"] = peer_tables(ingestd);
      std::cout << j.dump(a.once ? 2 : -1) << std::endl;
    } else {
      if (tty && !a.once) std::cout << "\033[H\033[2J";  // redraw in place, like top
      std::cout << render_stats_table(now, &prev, title) << peer_table_lines(ingestd) << std::flush;
    }
    prev = std::move(now);
    if (a.once || (a.iterations > 0 && i + 1 >= a.iterations)) break;
  }
  return kOk;
}

int cmd_metrics(const CtlOptions& o, const std::string& listen) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  std::string address = cfg.control.metrics_address;
  int port = static_cast<int>(cfg.control.metrics_port);
  if (!listen.empty()) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "peakctl metrics: --listen wants ADDRESS:PORT, got \"" << listen << "\"\n";
      return kUsage;
    }
    address = listen.substr(0, colon);
    port = std::atoi(listen.c_str() + colon + 1);
  }
  install_quit_handlers();
  try {
    MetricsServer server(address, port, [&cfg, run_dir] { return collect_snapshot(cfg, run_dir); });
    std::cout << "serving http://" << address << ":" << server.port() << "/metrics (Ctrl+C to stop)" << std::endl;
    while (!g_quit) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } catch (const std::exception& e) {
    std::cerr << "peakctl metrics: " << e.what() << "\n";
    return kFailed;
  }
  return kOk;
}

}  // namespace peaknet::ctl

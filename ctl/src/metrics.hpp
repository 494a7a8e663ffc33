#pragma once
// Prometheus text exposition of a Snapshot, and the HTTP endpoint serving it (cpp-httplib). The
// endpoint is served by `peakctl metrics` (systemd: peaknet-metrics.service) and by the supervisor of
// a non-systemd `peakctl start`; it binds control.metrics_address (127.0.0.1 by default).
//   GET /metrics        text/plain; version=0.0.4
//   GET /health/ready   200 when every daemon is ready, else 503 (Triton/KServe style)
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "stats_snapshot.hpp"

namespace httplib {
class Server;
}

namespace peaknet::ctl {

/// Every daemon counter as peaknet_<name>_total{daemon,instance} (gauges without _total), latency
/// histograms as summaries in seconds, queue gauges, the ledger and per-daemon up/ready gauges.
std::string prometheus_text(const Snapshot& snapshot);

class MetricsServer {
 public:
  /// Binds address:port and serves on its own thread; throws std::runtime_error when the bind fails.
  MetricsServer(const std::string& address, int port, std::function<Snapshot()> snapshot);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const noexcept { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace peaknet::ctl

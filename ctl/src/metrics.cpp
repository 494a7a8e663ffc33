#include "metrics.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#ifdef PEAKCTL_HAVE_HTTPLIB
#include <httplib.h>
#else
namespace httplib {
class Server {};  // never constructed: only completes the type for unique_ptr
}  // namespace httplib
#endif

namespace peaknet::ctl {

namespace {
std::string sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

std::string labels(const DaemonSample& d, const std::string& extra = "") {
  return fmt::format("{{daemon=\"{}\",instance=\"{}\"{}}}", d.daemon, d.instance, extra);
}

// ingestd's per-producer counters "producer.<id>.<what>" become one family per <what> with a producer
// label, so a recording rule can take max/sum by producer over the fleet (docs/OPERATIONS.md).
bool producer_counter(const std::string& raw, std::string& id, std::string& what) {
  if (raw.rfind("producer.", 0) != 0) return false;
  const size_t dot = raw.find('.', 9);
  if (dot == std::string::npos || dot == 9) return false;
  id = raw.substr(9, dot - 9);
  what = raw.substr(dot + 1);
  return !what.empty() && id.find_first_not_of("0123456789") == std::string::npos;
}

double seconds_of(const std::string& name, double v) {
  auto ends = [&](const char* s) { return name.size() > 3 && name.compare(name.size() - 3, 3, s) == 0; };
  if (ends("_ms")) return v / 1e3;
  if (ends("_us")) return v / 1e6;
  return v / 1e9;
}

// Prometheus names use base units, spelled out (promtool check metrics rejects "_ms", "_ns", "_b", ...):
// a time-unit token becomes a "_seconds" suffix, a size token ("mb", "kib") "bytes", the value scaled.
struct PromName {
  std::string name;    ///< without "peaknet_" and without "_total"
  double scale = 1.0;  ///< value multiplier into the base unit
  bool seconds = false;
};
PromName prom_name(const std::string& raw) {
  static const std::map<std::string, double> time_units = {
      {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}, {"sec", 1.0}};
  // The daemons' kb/mb/gb counters are binary (gpu_mem_used_mb = bytes >> 20).
  static const std::map<std::string, double> byte_units = {{"b", 1.0},           {"kb", 1024.0},  {"mb", 1048576.0},
                                                           {"gb", 1073741824.0}, {"kib", 1024.0}, {"mib", 1048576.0},
                                                           {"gib", 1073741824.0}};
  static const std::map<std::string, std::string> spelled = {
      {"min", "minutes"}, {"hr", "hours"}, {"hrs", "hours"}, {"d", "days"}, {"bps", "bytes_per_second"}};
  PromName out;
  const std::string clean = sanitize(raw);
  size_t start = 0;
  while (start <= clean.size()) {
    const size_t end = std::min(clean.find('_', start), clean.size());
    std::string token = clean.substr(start, end - start);
    start = end + 1;
    std::string lower;
    for (char c : token) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (const auto t = time_units.find(lower); t != time_units.end() && !out.seconds) {
      out.seconds = true;
      out.scale = t->second;
      continue;
    }
    if (const auto b = byte_units.find(lower); b != byte_units.end()) {
      out.scale = b->second;
      token = "bytes";
    } else if (const auto s = spelled.find(lower); s != spelled.end()) {
      token = s->second;
    }
    if (token.empty()) continue;
    out.name += (out.name.empty() ? "" : "_") + token;
  }
  if (out.seconds) out.name += "_seconds";
  return out;
}

// Groups samples by metric name so each family gets one HELP/TYPE header.
struct Families {
  struct Family {
    std::string type, help;
    std::vector<std::string> lines;
  };
  std::map<std::string, Family> by_name;
  void add(const std::string& name, const std::string& type, const std::string& line, const std::string& help = "") {
    auto& f = by_name[name];
    f.type = type;
    if (f.help.empty()) f.help = help.empty() ? "peaknet " + name.substr(name.find('_') + 1) : help;
    f.lines.push_back(line);
  }
  std::string text() const {
    std::string out;
    for (const auto& [name, f] : by_name) {
      out += "# HELP " + name + " " + f.help + "\n";
      out += "# TYPE " + name + " " + f.type + "\n";
      for (const auto& l : f.lines) out += l + "\n";
    }
    return out;
  }
};
}  // namespace

std::string prometheus_text(const Snapshot& s) {
  Families f;
  for (const auto& d : s.daemons) {
    f.add("peaknet_daemon_up", "gauge", "peaknet_daemon_up" + labels(d) + (d.state == "unreachable" ? " 0" : " 1"),
          "1 when the daemon answers on its control socket");
    f.add("peaknet_daemon_ready", "gauge", "peaknet_daemon_ready" + labels(d) + (d.state == "ready" ? " 1" : " 0"),
          "1 when the daemon reports state ready");
    f.add("peaknet_daemon_uptime_seconds", "gauge",
          fmt::format("peaknet_daemon_uptime_seconds{} {}", labels(d), d.uptime_s), "seconds since the daemon started");
    for (const auto& [raw, value] : d.counters) {
      const bool gauge = d.is_gauge.count(raw) && d.is_gauge.at(raw);
      if (std::string id, what; producer_counter(raw, id, what)) {
        const std::string name = "peaknet_producer_" + sanitize(what) + (gauge ? "" : "_total");
        f.add(name, gauge ? "gauge" : "counter",
              fmt::format("{}{} {}", name, labels(d, ",producer=\"" + id + "\""), value),
              "peaknet per-producer " + std::string(gauge ? "gauge " : "counter ") + what);
        continue;
      }
      const PromName p = prom_name(raw);
      std::string base = p.name;
      if (base.size() > 6 && base.compare(base.size() - 6, 6, "_total") == 0) base.resize(base.size() - 6);
      const std::string name = "peaknet_" + base + (gauge ? "" : "_total");
      f.add(name, gauge ? "gauge" : "counter", fmt::format("{}{} {}", name, labels(d), value * p.scale),
            "peaknet " + std::string(gauge ? "gauge " : "counter ") + raw);
    }
    for (const auto& [raw, l] : d.latencies) {
      PromName p = prom_name(raw);
      if (!p.seconds) p.name += "_seconds";
      const std::string name = "peaknet_" + p.name;
      f.add(name, "summary", fmt::format("{}{} {}", name, labels(d, ",quantile=\"0.5\""), seconds_of(raw, l.p50)));
      f.add(name, "summary", fmt::format("{}{} {}", name, labels(d, ",quantile=\"0.99\""), seconds_of(raw, l.p99)));
      f.add(name, "summary", fmt::format("{}_sum{} {}", name, labels(d), seconds_of(raw, l.mean * l.count)));
      f.add(name, "summary", fmt::format("{}_count{} {}", name, labels(d), l.count));
    }
  }
  for (const auto& r : s.rings) {
    const std::string q = fmt::format("{{queue=\"{}\"}}", r.name);
    f.add("peaknet_queue_slots", "gauge", fmt::format("peaknet_queue_slots{} {}", q, r.slots));
    f.add("peaknet_queue_occupancy", "gauge", fmt::format("peaknet_queue_occupancy{} {}", q, r.occupancy));
    f.add("peaknet_queue_published_total", "counter",
          fmt::format("peaknet_queue_published_total{} {}", q, r.published));
    f.add("peaknet_queue_released_total", "counter", fmt::format("peaknet_queue_released_total{} {}", q, r.released));
    f.add("peaknet_queue_dropped_total", "counter", fmt::format("peaknet_queue_dropped_total{} {}", q, r.dropped));
  }
  const auto& l = s.ledger;
  for (const auto& [column, value] : std::map<std::string, double>{{"received", l.received},
                                                                   {"written", l.written},
                                                                   {"filtered", l.filtered},
                                                                   {"dropped", l.dropped},
                                                                   {"in_flight", l.in_flight}}) {
    f.add("peaknet_ledger_events", "gauge", fmt::format("peaknet_ledger_events{{column=\"{}\"}} {}", column, value));
  }
  return f.text();
}

#ifdef PEAKCTL_HAVE_HTTPLIB
MetricsServer::MetricsServer(const std::string& address, int port, std::function<Snapshot()> snapshot)
    : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus_text(snapshot()), "text/plain; version=0.0.4");
  });
  server_->Get("/health/ready", [snapshot](const httplib::Request&, httplib::Response& res) {
    const Snapshot s = snapshot();
    bool ready = !s.daemons.empty();
    for (const auto& d : s.daemons) ready = ready && d.state == "ready";
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  server_->Get("/health/live",
               [](const httplib::Request&, httplib::Response& res) { res.set_content("live\n", "text/plain"); });
  port_ = port == 0 ? server_->bind_to_any_port(address) : (server_->bind_to_port(address, port) ? port : -1);
  if (port_ <= 0) {
    throw std::runtime_error(fmt::format("metrics endpoint: cannot bind {}:{}", address, port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

#else
MetricsServer::MetricsServer(const std::string&, int, std::function<Snapshot()>) {
  throw std::runtime_error("metrics endpoint: peakctl was built without cpp-httplib (libcpp-httplib-dev)");
}
MetricsServer::~MetricsServer() = default;
#endif

}  // namespace peaknet::ctl

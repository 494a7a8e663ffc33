#include "stats_snapshot.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/config/segment_names.hpp"
#include "common/control_client.hpp"
#include "ctl_context.hpp"

#include "shm/counter_block.hpp"
#include "shm/event_clock.hpp"
#include "shm/ring.hpp"

namespace peaknet::ctl {

namespace {
using shm::steady_ns;

void flatten(const nlohmann::json& j, const std::string& prefix, DaemonSample& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string name = prefix.empty() ? it.key() : prefix + "_" + it.key();
    const auto& v = it.value();
    if (v.is_number()) {
      out.counters[name] = v.get<double>();
    } else if (v.is_boolean()) {
      out.counters[name] = v.get<bool>() ? 1 : 0;
      out.is_gauge[name] = true;
    } else if (v.is_object() && v.contains("p50") && v.contains("p99")) {
      LatencySample l;
      l.count = v.value("count", 0.0);
      l.p50 = v.value("p50", 0.0);
      l.p99 = v.value("p99", 0.0);
      l.max = v.value("max", 0.0);
      l.mean = v.value("mean", 0.0);
      out.latencies[name] = l;
    } else if (v.is_object() && prefix.empty() &&
               (it.key() == "counters" || it.key() == "gauges" || it.key() == "histograms" ||
                it.key() == "latencies")) {
      // Grouping objects ({"counters":{...},"gauges":{...}}) add no name part.
      DaemonSample group;
      flatten(v, "", group);
      for (auto& [k, value] : group.counters) {
        out.counters[k] = value;
        if (it.key() == "gauges" || group.is_gauge.count(k)) out.is_gauge[k] = true;
      }
      for (auto& [k, l] : group.latencies) out.latencies[k] = l;
    } else if (v.is_object()) {
      flatten(v, name, out);
    }
  }
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Reads the daemon's CounterBlock (named by its id, config/segment_names.hpp); false when it cannot be
// attached (daemon without one, or gone).
bool read_counter_block(const std::string& run_name, DaemonSample& sample) {
  try {
    const auto block = shm::CounterBlock::attach(config::stats_block_name(run_name, sample.id));
    for (const auto& e : block.snapshot_entries()) {
      if (e.kind == shm::MetricKind::kHistogram) {
        sample.latencies[e.name] = {double(e.value), double(e.p50), double(e.p99), double(e.max), double(e.mean)};
      } else {
        sample.counters[e.name] = double(e.value);
        sample.is_gauge[e.name] = e.kind == shm::MetricKind::kGauge;
      }
    }
    sample.source = "shm";
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void read_rings(const config::SuiteConfig& cfg, std::vector<RingSample>& out) {
  for (const auto* q : {&cfg.q1, &cfg.q2}) {
    const std::string name = config::segment_name(cfg, *q);
    try {
      if (!shm::Ring::exists(name)) continue;
      const auto ring = shm::Ring::attach(name);
      const auto c = ring.counters();
      out.push_back({q->name, double(ring.slot_count()), double(c.occupancy), double(c.published), double(c.released),
                     double(c.total_dropped()), double(ring.slot_bytes())});
    } catch (const std::exception&) {}
  }
}
}  // namespace

void absorb_stats_json(const nlohmann::json& stats, DaemonSample& sample) {
  if (stats.is_object()) flatten(stats, "", sample);
}

Ledger compute_ledger(const std::vector<DaemonSample>& daemons) {
  Ledger l;
  for (const auto& d : daemons) {
    auto get = [&](const char* name) {
      const auto it = d.counters.find(name);
      return it == d.counters.end() ? 0.0 : it->second;
    };
    if (d.daemon == "ingestd") l.received += get("events_received");
    if (d.daemon == "writerd") {
      l.written += get("events_written");
      l.filtered += get("events_filtered");
    }
    for (const auto& [name, value] : d.counters) {
      if (!starts_with(name, "dropped_") || value == 0) continue;
      l.dropped += value;
      l.dropped_by_reason[d.id + ":" + name.substr(8)] += value;
    }
  }
  l.in_flight = l.received - l.written - l.filtered - l.dropped;
  return l;
}

double sum_counter(const Snapshot& s, const std::string& daemon, const std::string& name) {
  double total = 0;
  for (const auto& d : s.daemons) {
    if (!daemon.empty() && d.daemon != daemon) continue;
    if (const auto it = d.counters.find(name); it != d.counters.end()) total += it->second;
  }
  return total;
}

Snapshot collect_snapshot(const config::SuiteConfig& cfg, const std::string& run_dir) {
  Snapshot s;
  for (const auto& d : discover_daemons(run_dir)) {
    DaemonSample sample;
    sample.id = d.id;
    sample.daemon = d.daemon;
    sample.instance = d.instance;
    const auto status = common::control_request(d.endpoint, {{"cmd", "status"}}, std::chrono::milliseconds(1000));
    if (status.value("ok", false)) {
      sample.state = status.value("state", std::string("?"));
      sample.status_line = status.value("status", std::string());
      sample.pid = status.value("pid", 0);
      sample.uptime_s = status.value("uptime_s", 0.0);
      sample.version = status.value("version", std::string());
      sample.config_digest = status.value("config_digest", std::string());
      if (const auto it = status.find("stall"); it != status.end() && it->is_object()) {
        sample.stall = it->value("message", std::string());
      }
    }
    const bool have = read_counter_block(cfg.run.name, sample);
    if (!have && sample.state != "unreachable") {
      const auto reply = common::control_request(d.endpoint, {{"cmd", "stats"}}, std::chrono::milliseconds(1000));
      if (reply.value("ok", false)) {
        absorb_stats_json(reply["stats"], sample);
        sample.source = "control";
      }
    }
    s.daemons.push_back(std::move(sample));
  }
  read_rings(cfg, s.rings);
  s.ledger = compute_ledger(s.daemons);
  s.t_ns = steady_ns();
  return s;
}

void keep_vanished_daemons(Snapshot& now, const Snapshot& previous, const std::string& run_dir) {
  auto present = [&](const std::string& id) {
    for (const auto& d : now.daemons) {
      if (d.id == id && !d.counters.empty()) return true;
    }
    return false;
  };
  std::optional<Snapshot> finals;
  bool changed = false;
  for (const auto& old : previous.daemons) {
    if (present(old.id)) continue;
    if (!finals) finals = final_snapshot(run_dir);
    const DaemonSample* keep = &old;
    for (const auto& f : finals->daemons) {
      if (f.id == old.id) keep = &f;
    }
    std::erase_if(now.daemons, [&](const DaemonSample& d) { return d.id == old.id; });
    now.daemons.push_back(*keep);
    changed = true;
  }
  if (!changed) return;
  std::sort(now.daemons.begin(), now.daemons.end(), [](const DaemonSample& a, const DaemonSample& b) {
    const int sa = pipeline_stage(a.daemon), sb = pipeline_stage(b.daemon);
    return sa != sb ? sa < sb : a.id < b.id;
  });
  now.ledger = compute_ledger(now.daemons);
}

Snapshot final_snapshot(const std::string& run_dir) {
  Snapshot s;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(run_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 11 && name.substr(name.size() - 11) == ".final.json") files.push_back(e.path());
  }
  for (const auto& path : files) {
    std::ifstream in(path);
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    DaemonSample sample;
    sample.id = doc.value("id", std::string());
    sample.daemon = doc.value("daemon", std::string());
    sample.instance = doc.value("instance", std::string());
    sample.pid = doc.value("pid", 0);
    sample.state = "exited (" + doc.value("state", std::string("?")) + ")";
    sample.source = "final";
    if (doc.contains("stats")) absorb_stats_json(doc["stats"], sample);
    s.daemons.push_back(std::move(sample));
  }
  std::sort(s.daemons.begin(), s.daemons.end(), [](const DaemonSample& a, const DaemonSample& b) {
    const int sa = pipeline_stage(a.daemon), sb = pipeline_stage(b.daemon);
    return sa != sb ? sa < sb : a.id < b.id;
  });
  s.ledger = compute_ledger(s.daemons);
  s.t_ns = steady_ns();
  return s;
}

}  // namespace peaknet::ctl

#pragma once
// One reading of the whole suite's numbers, as `peakctl stats`, `peakctl run` and the metrics endpoint
// show them: every daemon's counters (from its shm CounterBlock when it can be attached, else from its
// control socket), the rings' counters, and the ledger derived from them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"

namespace peaknet::ctl {

struct LatencySample {
  double count = 0, p50 = 0, p99 = 0, max = 0, mean = 0;  ///< values in the histogram's unit (ns)
};

struct DaemonSample {
  std::string id, daemon, instance;
  std::string state = "unreachable";  ///< from "status" ("ready", ...) or "exited"
  std::string status_line;
  std::string stall;  ///< "decode thread 3 stuck for 31 s in q1 acquire" while state is "stalled"
  int pid = 0;
  double uptime_s = 0;
  std::string version, config_digest;
  std::string source;                      ///< "shm", "control" or "final" (final stats file)
  std::map<std::string, double> counters;  ///< flattened names ("dropped_ring_full")
  std::map<std::string, bool> is_gauge;    ///< name -> gauge (absent or false = counter)
  std::map<std::string, LatencySample> latencies;
};

struct RingSample {
  std::string name;  ///< "q1"
  double slots = 0, occupancy = 0, published = 0, released = 0, dropped = 0, slot_bytes = 0;
};

/// received = written + filtered + dropped + in_flight.
struct Ledger {
  double received = 0, written = 0, filtered = 0, dropped = 0, in_flight = 0;
  std::map<std::string, double> dropped_by_reason;  ///< "<id>:<reason>"
  bool balanced_at_rest() const { return received > 0 && in_flight == 0; }
};

struct Snapshot {
  int64_t t_ns = 0;  ///< steady clock
  std::vector<DaemonSample> daemons;
  std::vector<RingSample> rings;
  Ledger ledger;
};

/// Reads every daemon found in `run_dir` (+ the config's rings) now.
Snapshot collect_snapshot(const config::SuiteConfig& cfg, const std::string& run_dir);
/// Builds a snapshot from the "<id>.final.json" files the daemons wrote when they exited.
Snapshot final_snapshot(const std::string& run_dir);
/// Daemons that were in `previous` but are gone from `now` (exited: socket and counter block removed)
/// keep their numbers — from their "<id>.final.json" when it exists, else as last seen — so that a
/// progress ledger does not jump (received 0, in flight negative) while the pipeline winds down.
void keep_vanished_daemons(Snapshot& now, const Snapshot& previous, const std::string& run_dir);
/// Sums the ledger from the daemons' conventional counter names (see common/daemon_runtime.hpp).
Ledger compute_ledger(const std::vector<DaemonSample>& daemons);
/// Flattens a stats JSON object into `sample` (nested objects joined with '_'; {"p50":..} objects become
/// latencies).
void absorb_stats_json(const nlohmann::json& stats, DaemonSample& sample);
/// Counter value of `name` summed over every daemon named `daemon` ("" = every daemon).
double sum_counter(const Snapshot& s, const std::string& daemon, const std::string& name);

}  // namespace peaknet::ctl

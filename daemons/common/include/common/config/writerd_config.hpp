#pragma once
// Section "writerd" of the suite config. Owned by the writerd work; keep keys, defaults and ranges here.
// docs/writerd.md lists every key; the defaults run anywhere (output under ./cxi_output).
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "common/config/config_node.hpp"
#include "common/config/log_level.hpp"

namespace peaknet::config {

/// What writerd does with events while its output fails: keep them in Q2 (block) or count and
/// release them (drop).
enum class OnError { kBlock, kDrop };
/// none: no fsync; file: fsync the file and its directory before and after the rename.
enum class FsyncPolicy { kNone, kFile };
std::string_view to_string(OnError on_error);
std::string_view to_string(FsyncPolicy fsync);
inline constexpr std::array kOnErrorValues{OnError::kBlock, OnError::kDrop};
inline constexpr std::array kFsyncPolicyValues{FsyncPolicy::kNone, FsyncPolicy::kFile};

struct WriterdConfig {
  std::optional<LogLevel> log_level;             ///< unset ("" in the file) = run.log_level
  std::string output_dir = "cxi_output";         ///< created when missing (live: writerd.output_dir)
  std::string file_pattern = "{run}_{seq}.cxi";  ///< {run} = run.name, {seq} = 6-digit file number
  int64_t events_per_file = 100;                 ///< K: rows per file at most (live; <= held-slot budget)
  int64_t max_file_age_ms = 10'000;              ///< a file with rows is closed after this long
  FsyncPolicy fsync = FsyncPolicy::kFile;        ///< none | file (fsync file + directory before/after rename)
  std::string geometry;                          ///< CrystFEL .geom; "" = panels stacked along slow scan
  bool write_frames = true;                      ///< /entry_1/data_1/data of every hit (inferd and q2 follow)
  bool write_masks = false;            ///< PeakNet mask of every hit (/entry_1/result_1/peakMask; inferd and q2 follow)
  int64_t compression_level = 4;       ///< deflate level of data_1/data (0 = none)
  int64_t compression_threads = 0;     ///< threads deflating frames (writer included); 0 = cores
  bool keep_all_events = false;        ///< write non-hits too (counted as written, not filtered)
  std::string pub_endpoint;            ///< "" = no live feed; else ZMQ PUB bind endpoint
  OnError on_error = OnError::kBlock;  ///< block (keep events in Q2) | drop (count and release) (live)
  int64_t retry_interval_ms = 1000;    ///< how often a failed output is retried
  int64_t claim_batch = 64;            ///< Q2 slots claimed per call
  int64_t claim_timeout_ms = 100;      ///< longest sleep waiting for Q2
  int64_t max_held_slots = 0;          ///< Q2 slots held for the open file; 0 = q2.slots / 2
  int64_t stats_interval_ms = 1000;    ///< log line + counter refresh period
  int64_t dedup_window = 1 << 21;      ///< event keys (epoch, id) remembered for de-duplication
};

WriterdConfig parse_writerd_config(ConfigNode node);

}  // namespace peaknet::config

#pragma once
// CxiSink: the "nothing lost, nothing twice" core of writerd. It holds the Q2 slots of the events
// of the open file and releases them only after the file is closed, (fsynced) and renamed to *.cxi,
// so every event is, at any instant, either in a completed file or still claimed in Q2 (a SIGKILL
// requeues it, the restart deletes the *.inprogress file and writes it again; ids already in
// completed files are skipped by the caller). Output failures (disk full, unwritable dir, HDF5
// error) discard the in-progress file; under on_error=block the held events stay claimed and are
// rewritten on the next successful retry (the caller stops claiming: backpressure into Q2); under
// on_error=drop they are released and counted as dropped_write_error.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/writerd_config.hpp"
#include "shm/ring.hpp"
#include "writerd/cxi_file.hpp"
#include "writerd/device_mask_reader.hpp"
#include "writerd/event_id_window.hpp"
#include "writerd/geometry.hpp"
#include "writerd/output_files.hpp"
#include "writerd/q2_slot.hpp"
#include "writerd/work_pool.hpp"
#include "writerd/writer_counters.hpp"

namespace peaknet::writerd {

using config::OnError;  // block | drop (writerd.on_error)

/// A claimed Q2 slot whose event belongs in a file.
struct HeldEvent {
  shm::ReadSlot slot;
  uint64_t event_id = 0;
  uint64_t t_recv_ns = 0;
  bool hit = true;
  uint32_t peaks_outside = 0;  ///< filled when its row is made
  bool frame_missing = false;
  MaskStatus mask_status = MaskStatus::kNone;  ///< filled when its row is made (write_masks)
  std::string mask_error{};                    ///< why a hit's mask is missing
};

struct SinkSettings {
  uint32_t max_num_peak = 2048;
  bool frames = false;
  int compression_level = 4;
  uint64_t events_per_file = 1000;  ///< K (already limited to the held-slot budget)
  std::chrono::milliseconds max_file_age{10'000};
  std::chrono::milliseconds retry_interval{1000};
  OnError on_error = OnError::kBlock;
  std::string geom_file_name;                ///< "<run>.geom": the geometry written beside the files ("" = none)
  WorkPool* pool = nullptr;                  ///< makes rows and deflates frames in parallel (nullptr: serial)
  bool masks = false;                        ///< peakMask of every hit (writerd.write_masks)
  DeviceMaskReader* device_masks = nullptr;  ///< reads masks left on a GPU (with `masks`)
};

struct FileRecord {
  std::string path;
  uint64_t events = 0;
};

class CxiSink {
 public:
  /// `seen` receives the event keys (epoch, id) found in completed files (recovery).
  CxiSink(shm::Ring& ring, WriterCounters& counters, EventIdWindow& seen, std::unique_ptr<OutputFiles> files,
          SinkSettings settings);
  ~CxiSink();

  /// Recovers the output directory: creates it, deletes stale *.inprogress, adds the ids of completed
  /// files to `seen`. False (and failed()) when that is not possible now; retried by tick().
  bool start();
  /// Geometry used for rows and the frame layout (must outlive the sink; set before add()).
  void set_geometry(const Geometry* geometry) { geometry_ = geometry; }
  const Geometry* geometry() const { return geometry_; }

  /// Takes an event; under a failed output with on_error=drop it is dropped and released at once.
  void add(HeldEvent event);
  /// Writes the not yet written held events (closing files of K rows on the way).
  void flush();
  /// Closes the file when it is old enough or full; retries a failed output when due.
  void tick(std::chrono::steady_clock::time_point now);
  /// Closes the open file (if it has rows) now. False when the output failed.
  bool complete();
  /// Leaving with a failed output: held events go back to Q2 unreleased (requeued by the ring).
  void abandon_held();

  bool failed() const { return failed_; }
  const std::string& last_error() const { return last_error_; }
  size_t held() const { return held_.size(); }
  uint64_t rows_in_open_file() const { return in_file_; }
  /// The most recent completed files (at most kFileRecordsKept: a long run's memory stays flat) and
  /// how many were completed in all (including those found at start).
  const std::deque<FileRecord>& files() const { return files_; }
  uint64_t files_total() const { return files_total_; }
  static constexpr size_t kFileRecordsKept = 1000;
  const OutputFiles& output() const { return *output_; }

  void set_events_per_file(uint64_t k) { settings_.events_per_file = k; }
  void set_on_error(OnError policy);
  /// Completes the current file in the old directory, then writes into `files` (recovered first).
  void switch_output(std::unique_ptr<OutputFiles> files);

 private:
  void recover();
  void open_file();
  void append_pending();
  void fail(const std::string& what);
  void drop_held(size_t count);
  void retry();
  CxiLayout layout() const;
  /// The hit's mask into row.mask (host copy in the slot, or from the device); status + why not.
  void make_mask(const Q2Event& q, HeldEvent& held, CxiRow& row);

  shm::Ring& ring_;
  WriterCounters& counters_;
  EventIdWindow& seen_;
  std::unique_ptr<OutputFiles> output_;
  bool recovered_ = false;     // output dir scanned: ids known, file numbers safe to use
  bool geom_written_ = false;  // <run>.geom written into this output dir
  SinkSettings settings_;
  const Geometry* geometry_ = nullptr;
  std::deque<HeldEvent> held_;  // [0, in_file_) appended to the open file, the rest pending
  uint64_t in_file_ = 0;
  std::optional<CxiFile> file_;
  uint64_t seq_ = 0;
  std::chrono::steady_clock::time_point opened_at_{};
  bool failed_ = false;
  std::string last_error_;
  std::string logged_error_;  // a failure is logged once until the output recovers
  int consecutive_failures_ = 0;
  std::chrono::steady_clock::time_point next_retry_{};
  std::deque<FileRecord> files_;
  uint64_t files_total_ = 0;
  void record_file(FileRecord record);
};

}  // namespace peaknet::writerd

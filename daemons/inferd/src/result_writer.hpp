#pragma once
// ResultWriter: turns a CompletedBatch into Q2 records, one slot per event:
// ResultHeader at 0, PeakRecord[n_peaks] at kPeaksOffset, then (write_frames) the raw stored frame at
// frame_offset (64-byte aligned) of hits only (or of every event with `frames_of_nonhits`, for
// writerd.keep_all_events): a non-hit's frame is never copied. Peaks beyond what the slot holds are
// counted, never overflow it.
#include <atomic>
#include <cstdint>

#include "common/progress_monitor.hpp"
#include "inferd/backend.hpp"
#include "inferd_counters.hpp"
#include "shm/event_clock.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {

class ResultWriter {
 public:
  ResultWriter(shm::Ring& q2, uint32_t producer_id, bool write_frames, bool frames_of_nonhits,
               InferdCounters& counters);

  /// Publishes every event of `done` (waits on a full Q2 under the block policy, retrying while
  /// `keep_waiting` says so). Returns the number of records published.
  size_t write(const CompletedBatch& done, const std::atomic<bool>& give_up);
  /// Forwards an end-of-stream marker as a record with kResultFlagEndOfStream and no peaks.
  bool write_marker(const shm::EventHeader& marker, const std::atomic<bool>& give_up);
  /// The serving thread's stage: blocked while Q2 is full (a beat per acquire timeout), progress per record.
  void set_stage(common::Stage* stage) { stage_ = stage; }

 private:
  std::optional<shm::WriteSlot> acquire(const std::atomic<bool>& give_up);

  shm::Ring& q2_;
  uint32_t producer_id_;
  bool write_frames_;
  bool frames_of_nonhits_;
  InferdCounters& counters_;
  common::Stage* stage_ = nullptr;
};

/// Fills the ResultHeader fields that come from the Q1 event.
void copy_event_fields(const shm::EventHeader& event, shm::ResultHeader& result);
using shm::realtime_ns;  ///< the rings' time base (shm/event_clock.hpp)

}  // namespace peaknet::inferd
